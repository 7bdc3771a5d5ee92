package dev.posthorn.outbound;

import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;

import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailConnectionFactory;
import jakarta.resource.ResourceException;

/**
 * The adapter wired as a container wires it: a started resource adapter, a managed connection factory
 * configured through its setters, and a recording pool in front of it.
 */
final class AdapterFixture implements AutoCloseable {

    final MailResourceAdapter adapter = new MailResourceAdapter();
    final MailManagedConnectionFactory managedFactory = new MailManagedConnectionFactory();
    final RecordingConnectionManager pool = new RecordingConnectionManager();
    final TestBootstrapContext bootstrap;
    final Path spoolDirectory;
    private MailConnectionFactory factory;

    AdapterFixture(int port) throws Exception {
        this(port, null);
    }

    AdapterFixture(int port, TestTransactionRegistry registry) throws Exception {
        bootstrap = new TestBootstrapContext(registry);
        adapter.start(bootstrap);
        managedFactory.setResourceAdapter(adapter);
        managedFactory.setHost("127.0.0.1");
        managedFactory.setPort(port);
        managedFactory.setTransportSecurity("PLAIN");
        managedFactory.setConnectTimeoutMillis(2_000);
        managedFactory.setReadTimeoutMillis(2_000);
        managedFactory.setWriteTimeoutMillis(2_000);
        managedFactory.setFromAddress("Shop <noreply@app.example.com>");
        spoolDirectory = Files.createTempDirectory("posthorn-spool");
        managedFactory.setSpoolDirectory(spoolDirectory.toString());
    }

    MailConnectionFactory factory() throws Exception {
        if (factory == null) {
            factory = (MailConnectionFactory) managedFactory.createConnectionFactory(pool);
        }
        return factory;
    }

    MailConnection connection() throws Exception {
        return factory().getConnection();
    }

    static MimeMessage message(String to, String subject, String body) throws Exception {
        MimeMessage message = new MimeMessage(Session.getInstance(new Properties()));
        message.setRecipients(jakarta.mail.Message.RecipientType.TO, to);
        message.setSubject(subject, "UTF-8");
        message.setText(body, "UTF-8");
        return message;
    }

    @Override
    public void close() throws ResourceException {
        pool.shutdown();
        adapter.stop();
        bootstrap.close();
        deleteRecursively(spoolDirectory);
    }

    static void deleteRecursively(Path directory) {
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(file -> file.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
