package dev.posthorn.outbound;

import java.util.Timer;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.resource.spi.BootstrapContext;
import jakarta.resource.spi.XATerminator;
import jakarta.resource.spi.work.ExecutionContext;
import jakarta.resource.spi.work.Work;
import jakarta.resource.spi.work.WorkContext;
import jakarta.resource.spi.work.WorkListener;
import jakarta.resource.spi.work.WorkManager;
import jakarta.transaction.TransactionSynchronizationRegistry;

/**
 * Bootstrap context whose work manager runs work on a fixed pool of daemon threads, standing in for the
 * container's. Without a transaction registry every send takes the adapter's synchronous path. With one,
 * a send on a thread that has a transaction is queued with it. The benchmarks use it too.
 */
public final class TestBootstrapContext implements BootstrapContext, WorkManager, AutoCloseable {

    private final ExecutorService executor;
    private final TransactionSynchronizationRegistry registry;

    /** Creates a context without a transaction registry and with 2 work manager threads. */
    public TestBootstrapContext() {
        this(2, null);
    }

    /** Creates a context with 2 work manager threads that offers {@code registry} to the adapter. */
    public TestBootstrapContext(TransactionSynchronizationRegistry registry) {
        this(2, registry);
    }

    /**
     * Creates a context with {@code workThreads} work manager threads.
     *
     * @param workThreads threads of the work manager, which bound how many deliveries run at once
     * @param registry the transaction registry to offer the adapter, or {@code null} for none
     */
    public TestBootstrapContext(int workThreads, TransactionSynchronizationRegistry registry) {
        this.registry = registry;
        AtomicInteger threadNumber = new AtomicInteger();
        executor = Executors.newFixedThreadPool(workThreads, runnable -> {
            Thread thread = new Thread(runnable, "test-work-manager-" + threadNumber.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
    }

    @Override
    public WorkManager getWorkManager() {
        return this;
    }

    @Override
    public XATerminator getXATerminator() {
        return null;
    }

    @Override
    public Timer createTimer() {
        return new Timer(true);
    }

    @Override
    public boolean isContextSupported(Class<? extends WorkContext> workContextClass) {
        return false;
    }

    @Override
    public TransactionSynchronizationRegistry getTransactionSynchronizationRegistry() {
        return registry;
    }

    @Override
    public void doWork(Work work) {
        work.run();
    }

    @Override
    public void doWork(Work work, long startTimeout, ExecutionContext context, WorkListener listener) {
        work.run();
    }

    @Override
    public long startWork(Work work) {
        executor.execute(work);
        return 0;
    }

    @Override
    public long startWork(Work work, long startTimeout, ExecutionContext context, WorkListener listener) {
        return startWork(work);
    }

    @Override
    public void scheduleWork(Work work) {
        executor.execute(work);
    }

    @Override
    public void scheduleWork(Work work, long startTimeout, ExecutionContext context, WorkListener listener) {
        executor.execute(work);
    }

    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
