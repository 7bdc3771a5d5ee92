package dev.posthorn.bench;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

import jakarta.mail.internet.MimeMessage;
import jakarta.transaction.Status;

import dev.posthorn.api.MailConnection;
import dev.posthorn.api.MailConnectionFactory;
import dev.posthorn.api.MailDeliveryEvent;
import dev.posthorn.api.SendReceipt;
import dev.posthorn.delivery.DeliveryEngine;
import dev.posthorn.delivery.DeliveryEvents;
import dev.posthorn.outbound.BenchAccess;
import dev.posthorn.outbound.MailManagedConnectionFactory;
import dev.posthorn.outbound.MailResourceAdapter;
import dev.posthorn.outbound.TestBootstrapContext;

/**
 * The adapter set up for transactional sending outside a container: its own resource adapter with a
 * per-thread transaction registry, a managed connection factory with a durable spool, and a
 * {@link BoundedConnectionManager} that delivery shares with the callers, as it shares the container's
 * pool on a server. The caller thread plays the transaction manager (see {@link #sendInTransaction}).
 *
 * <p>Delivery events reach {@link #onEvent}, because the bench naming context names the application
 * {@value BenchNamingContextFactory#APPLICATION_NAME} on every thread. Several paths may be open at once:
 * the one event sink of that application passes each event to the path whose factory name it carries.
 */
final class TransactionalPath implements AutoCloseable {

    private static final AtomicLong NEXT_TRANSACTION = new AtomicLong();
    /** Open paths by the name of their managed connection factory, for routing delivery events. */
    private static final Map<String, TransactionalPath> OPEN_PATHS = new ConcurrentHashMap<>();

    /** Times of one transaction from {@link System#nanoTime()}, and the tracking id of its message. */
    record Timing(String trackingId, long startNanos, long commitStartNanos, long committedNanos) {
    }

    /** The adapter settings that differ between benchmark cases. */
    record Settings(String name, int port, int poolSize, int maxConcurrentDeliveries, int workThreads,
                    Path spoolDirectory, int readTimeoutMillis) {
    }

    private final ThreadTransactionRegistry registry = new ThreadTransactionRegistry();
    private final TestBootstrapContext bootstrap;
    private final MailResourceAdapter adapter = new MailResourceAdapter();
    private final MailManagedConnectionFactory managedFactory = new MailManagedConnectionFactory();
    private final BoundedConnectionManager pool;
    private final MailConnectionFactory factory;
    private volatile Consumer<MailDeliveryEvent> eventListener = event -> { };

    TransactionalPath(Settings settings) throws Exception {
        bootstrap = new TestBootstrapContext(settings.workThreads(), registry);
        adapter.start(bootstrap);
        managedFactory.setResourceAdapter(adapter);
        managedFactory.setName(settings.name());
        managedFactory.setHost("127.0.0.1");
        managedFactory.setPort(settings.port());
        managedFactory.setTransportSecurity("PLAIN");
        managedFactory.setConnectTimeoutMillis(2_000);
        managedFactory.setReadTimeoutMillis(settings.readTimeoutMillis());
        managedFactory.setWriteTimeoutMillis(10_000);
        managedFactory.setFromAddress("bench@posthorn.example");
        managedFactory.setSpoolDirectory(settings.spoolDirectory().toString());
        managedFactory.setMaxConcurrentDeliveries(settings.maxConcurrentDeliveries());
        managedFactory.setShutdownTimeoutMillis(1_000L);
        OPEN_PATHS.put(settings.name(), this);
        DeliveryEvents.register(BenchNamingContextFactory.APPLICATION_NAME, getClass().getClassLoader(),
                TransactionalPath::dispatch);
        pool = new BoundedConnectionManager(settings.poolSize());
        factory = (MailConnectionFactory) managedFactory.createConnectionFactory(pool);
    }

    /** Sends every delivery event of this adapter to {@code listener} from now on. */
    void onEvent(Consumer<MailDeliveryEvent> listener) {
        eventListener = listener;
    }

    MailConnectionFactory factory() {
        return factory;
    }

    DeliveryEngine engine() throws Exception {
        return BenchAccess.engine(managedFactory);
    }

    /**
     * Sends one message in a transaction of its own on the calling thread, driving the XA resource as a
     * transaction manager does: start, send, end, then prepare and commit, or a one-phase commit, then
     * the synchronizations with status COMMITTED. The managed connection stays with the transaction
     * until it has completed, as a container keeps an enlisted connection.
     *
     * @param message builds the message; building it counts towards the transaction's time
     */
    Timing sendInTransaction(MessageBuilder message, boolean twoPhase) throws Exception {
        long start = System.nanoTime();
        MimeMessage built = message.build();
        registry.begin();
        try (MailConnection connection = factory.getConnection()) {
            XAResource resource = pool.allocatedOnThisThread().getXAResource();
            Xid xid = new BenchXid(NEXT_TRANSACTION.incrementAndGet());
            resource.start(xid, XAResource.TMNOFLAGS);
            SendReceipt receipt = connection.send(built);
            resource.end(xid, XAResource.TMSUCCESS);
            long commitStart = System.nanoTime();
            if (twoPhase) {
                int vote = resource.prepare(xid);
                if (vote != XAResource.XA_OK) {
                    throw new XAException("prepare returned " + vote + ", expected XA_OK for a branch with a message");
                }
                resource.commit(xid, false);
            } else {
                resource.commit(xid, true);
            }
            long committed = System.nanoTime();
            registry.complete(Status.STATUS_COMMITTED);
            return new Timing(receipt.trackingId(), start, commitStart, committed);
        }
    }

    /**
     * Sends several messages in one two-phase transaction on the calling thread; used to fill a spool
     * quickly, where only the number of queued messages matters.
     */
    void sendBatchInTransaction(MessageBuilder message, int count) throws Exception {
        registry.begin();
        try (MailConnection connection = factory.getConnection()) {
            XAResource resource = pool.allocatedOnThisThread().getXAResource();
            Xid xid = new BenchXid(NEXT_TRANSACTION.incrementAndGet());
            resource.start(xid, XAResource.TMNOFLAGS);
            for (int i = 0; i < count; i++) {
                connection.send(message.build());
            }
            resource.end(xid, XAResource.TMSUCCESS);
            resource.prepare(xid);
            resource.commit(xid, false);
            registry.complete(Status.STATUS_COMMITTED);
        }
    }

    /** Sends one message synchronously, outside any transaction. */
    SendReceipt sendNow(MimeMessage message) throws Exception {
        try (MailConnection connection = factory.getConnection()) {
            return connection.send(message);
        }
    }

    @Override
    public void close() throws Exception {
        OPEN_PATHS.remove(managedFactory.getName());
        if (OPEN_PATHS.isEmpty()) {
            DeliveryEvents.unregister(BenchNamingContextFactory.APPLICATION_NAME);
        }
        pool.shutdown();
        adapter.stop();
        bootstrap.close();
    }

    private static void dispatch(MailDeliveryEvent event) {
        TransactionalPath path = OPEN_PATHS.get(event.factoryName());
        if (path != null) {
            path.eventListener.accept(event);
        }
    }

    /** Builds a new message for each send. */
    @FunctionalInterface
    interface MessageBuilder {
        MimeMessage build() throws Exception;
    }

    /** A transaction branch id as a transaction manager passes it, with a unique global id. */
    private record BenchXid(long id) implements Xid {

        @Override
        public int getFormatId() {
            return 0x504f5354;
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
}
