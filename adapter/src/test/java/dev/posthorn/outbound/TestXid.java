package dev.posthorn.outbound;

import java.nio.ByteBuffer;

import javax.transaction.xa.Xid;

/** A transaction branch id as a transaction manager would pass it. */
record TestXid(long id) implements Xid {

    @Override
    public int getFormatId() {
        return 4711;
    }

    @Override
    public byte[] getGlobalTransactionId() {
        return ByteBuffer.allocate(Long.BYTES).putLong(id).array();
    }

    @Override
    public byte[] getBranchQualifier() {
        return new byte[] {1};
    }
}
