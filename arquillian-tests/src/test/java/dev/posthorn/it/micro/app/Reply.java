package dev.posthorn.it.micro.app;

import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.util.Properties;
import java.util.stream.Collectors;

import dev.posthorn.api.MailException;
import dev.posthorn.api.RecipientStatus;
import dev.posthorn.api.SendReceipt;

/** The values an endpoint returns to the test, written as {@link Properties} text. */
public final class Reply {

    private final Properties values = new Properties();

    public static Reply of(SendReceipt receipt) {
        return new Reply()
                .with("messageId", receipt.messageId())
                .with("trackingId", receipt.trackingId())
                .with("outcome", receipt.outcome())
                .with("recipients", receipt.recipients().stream()
                        .map(RecipientStatus::address).collect(Collectors.joining(",")))
                .with("acceptedRecipients", receipt.recipients().stream().filter(RecipientStatus::accepted)
                        .map(RecipientStatus::address).collect(Collectors.joining(",")));
    }

    /** Describes a failed send, so that the test's assertion message shows the adapter's own words. */
    public static Reply of(MailException failure) {
        return new Reply()
                .with("error", failure.getClass().getName())
                .with("errorKind", failure.getKind())
                .with("errorMessage", failure.getMessage());
    }

    public Reply with(String key, Object value) {
        values.setProperty(key, String.valueOf(value));
        return this;
    }

    public String text() {
        StringWriter text = new StringWriter();
        try {
            values.store(text, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }
}
