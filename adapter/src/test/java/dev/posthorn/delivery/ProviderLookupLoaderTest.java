package dev.posthorn.delivery;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URL;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.ServiceLoader;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.mail.Message.RecipientType;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.StreamProvider;
import org.junit.jupiter.api.Test;

/**
 * Rendering looks up Jakarta Mail's stream provider through the context class loader once, not for every
 * part, and writes the same bytes as Jakarta Mail alone.
 */
class ProviderLookupLoaderTest {

    /** An application class loader that counts how often the provider declaration is looked up. */
    private static final class CountingLoader extends ClassLoader {
        final AtomicInteger declarationLookups = new AtomicInteger();

        CountingLoader(ClassLoader parent) {
            super(parent);
        }

        @Override
        public Enumeration<URL> getResources(String name) throws IOException {
            if (ProviderLookupLoader.DECLARATION.equals(name)) {
                declarationLookups.incrementAndGet();
            }
            return super.getResources(name);
        }
    }

    private static MimeMessage multipart(int index) throws Exception {
        MimeMessage message = new MimeMessage(Session.getInstance(new Properties()));
        message.setFrom("shop@app.example.com");
        message.setRecipients(RecipientType.TO, "alice@example.org");
        message.setSubject("Invoice " + index, "UTF-8");
        MimeBodyPart text = new MimeBodyPart();
        text.setText("Your invoice is attached.", "UTF-8");
        MimeBodyPart attachment = new MimeBodyPart();
        attachment.setContent(new byte[] {1, 2, 3, (byte) index}, "application/octet-stream");
        attachment.setFileName("invoice.bin");
        message.setContent(new MimeMultipart(text, attachment));
        message.setHeader("Message-ID", "<invoice-" + index + "@app.example.com>");
        return message;
    }

    @Test
    void declarationLookedUpOncePerLoader() throws Exception {
        List<MimeMessage> messages = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            messages.add(multipart(i));
        }
        CountingLoader application = new CountingLoader(getClass().getClassLoader());
        MessagePreparer preparer = new MessagePreparer(null);
        Thread thread = Thread.currentThread();
        ClassLoader original = thread.getContextClassLoader();
        thread.setContextClassLoader(application);
        try {
            for (MimeMessage message : messages) {
                preparer.prepare(message);
            }
            assertSame(application, thread.getContextClassLoader());
        } finally {
            thread.setContextClassLoader(original);
        }

        // Without the lookup loader these messages cost 20 lookups. A garbage collection between two
        // messages may drop the weakly held lookup loader, which costs one more.
        assertTrue(application.declarationLookups.get() <= 2, "lookups: " + application.declarationLookups.get());
    }

    @Test
    void lookupFindsSameProviders() {
        ClassLoader application = getClass().getClassLoader();
        ClassLoader lookup = ProviderLookupLoader.around(application);

        List<String> expected = ServiceLoader.load(StreamProvider.class, application).stream()
                .map(provider -> provider.type().getName()).toList();
        List<String> found = ServiceLoader.load(StreamProvider.class, lookup).stream()
                .map(provider -> provider.type().getName()).toList();
        assertFalse(expected.isEmpty(), "no StreamProvider on the test class path");
        assertEquals(expected, found);
    }

    @Test
    void renderedBytesMatchJakartaMail() throws Exception {
        MimeMessage message = multipart(1);

        byte[] rendered = new MessagePreparer(null).prepare(message).content();

        // The same message written by Jakarta Mail alone, after the preparer saved it.
        ByteArrayOutputStream plain = new ByteArrayOutputStream();
        message.writeTo(plain, new String[] {"Bcc", "Content-Length"});
        assertArrayEquals(plain.toByteArray(), rendered);
    }
}
