package dev.posthorn.outbound;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

import jakarta.transaction.Status;
import jakarta.transaction.Synchronization;
import jakarta.transaction.TransactionSynchronizationRegistry;

/**
 * One transaction at a time, driven by the test: {@link #begin()}, then {@link #complete(int)} calls the
 * interposed synchronizations as a transaction manager does after the resources have committed.
 */
final class TestTransactionRegistry implements TransactionSynchronizationRegistry {

    private final List<Synchronization> synchronizations = new CopyOnWriteArrayList<>();
    private final Map<Object, Object> resources = new HashMap<>();
    private Object key;

    void begin() {
        key = new Object();
        resources.clear();
        synchronizations.clear();
    }

    void complete(int status) {
        key = null;
        for (Synchronization synchronization : synchronizations) {
            synchronization.afterCompletion(status);
        }
    }

    int synchronizationCount() {
        return synchronizations.size();
    }

    @Override
    public Object getTransactionKey() {
        return key;
    }

    @Override
    public void putResource(Object resourceKey, Object value) {
        resources.put(resourceKey, value);
    }

    @Override
    public Object getResource(Object resourceKey) {
        return resources.get(resourceKey);
    }

    @Override
    public void registerInterposedSynchronization(Synchronization synchronization) {
        synchronizations.add(synchronization);
    }

    @Override
    public int getTransactionStatus() {
        return key == null ? Status.STATUS_NO_TRANSACTION : Status.STATUS_ACTIVE;
    }

    @Override
    public void setRollbackOnly() {
        throw new UnsupportedOperationException("not needed by the adapter");
    }

    @Override
    public boolean getRollbackOnly() {
        return false;
    }
}
