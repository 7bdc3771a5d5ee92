package dev.posthorn.outbound;

import jakarta.resource.spi.ManagedConnectionMetaData;

/** Describes the EIS behind a managed connection for the container's monitoring. */
final class MailConnectionMetaData implements ManagedConnectionMetaData {

    private final String userName;

    MailConnectionMetaData(String userName) {
        this.userName = userName;
    }

    @Override
    public String getEISProductName() {
        return "SMTP";
    }

    @Override
    public String getEISProductVersion() {
        return "RFC 5321";
    }

    /** No limit from the adapter: the container's pool settings decide. */
    @Override
    public int getMaxConnections() {
        return 0;
    }

    @Override
    public String getUserName() {
        return userName == null ? "" : userName;
    }
}
