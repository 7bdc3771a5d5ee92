package dev.posthorn.delivery;

import java.lang.ref.WeakReference;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * Values kept per class loader, for example per application module. Keys and values are both weakly
 * held: a value that refers to its class loader would otherwise keep an undeployed application in memory.
 * A collected value is simply created again by the caller.
 */
public final class ClassLoaderCache<V> {

    private final Map<ClassLoader, WeakReference<V>> values = new WeakHashMap<>();

    /** Returns the value stored for {@code loader}, or {@code null} when none is or it was collected. */
    public synchronized V get(ClassLoader loader) {
        WeakReference<V> known = values.get(loader);
        return known == null ? null : known.get();
    }

    /** Stores {@code value} for {@code loader}, replacing any earlier one. */
    public synchronized void put(ClassLoader loader, V value) {
        values.put(loader, new WeakReference<>(value));
    }
}
