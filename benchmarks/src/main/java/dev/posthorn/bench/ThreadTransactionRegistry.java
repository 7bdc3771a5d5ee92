package dev.posthorn.bench;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;

/**
 * Transaction synchronization registry with one transaction per thread, as a transaction manager binds
 * it: the caller thread calls {@link #begin()}, and {@link #complete(int)} runs the interposed
 * synchronizations on that thread after the resources have committed.
 */
final class ThreadTransactionRegistry implements TransactionSynchronizationRegistry {

    /** The calling thread's transaction: its key, resources and synchronizations. */
    private static final class Transaction {
        final Object key = new Object();
        final Map<Object, Object> resources = new HashMap<>();
        final List<Synchronization> synchronizations = new ArrayList<>();
    }

    private final ThreadLocal<Transaction> current = new ThreadLocal<>();

    void begin() {
        if (current.get() != null) {
            throw new IllegalStateException("The calling thread already has a transaction");
        }
        current.set(new Transaction());
    }

    /** Ends the calling thread's transaction and calls {@code afterCompletion(status)} on each synchronization. */
    void complete(int status) {
        Transaction transaction = require();
        current.remove();
        for (Synchronization synchronization : transaction.synchronizations) {
            synchronization.afterCompletion(status);
        }
    }

    @Override
    public Object getTransactionKey() {
        Transaction transaction = current.get();
        return transaction == null ? null : transaction.key;
    }

    @Override
    public void putResource(Object key, Object value) {
        require().resources.put(key, value);
    }

    @Override
    public Object getResource(Object key) {
        return require().resources.get(key);
    }

    @Override
    public void registerInterposedSynchronization(Synchronization synchronization) {
        require().synchronizations.add(synchronization);
    }

    @Override
    public int getTransactionStatus() {
        return current.get() == null ? Status.STATUS_NO_TRANSACTION : Status.STATUS_ACTIVE;
    }

    @Override
    public void setRollbackOnly() {
        throw new UnsupportedOperationException("The benchmark never rolls back");
    }

    @Override
    public boolean getRollbackOnly() {
        return false;
    }

    private Transaction require() {
        Transaction transaction = current.get();
        if (transaction == null) {
            throw new IllegalStateException("No transaction on the calling thread");
        }
        return transaction;
    }
}
