package dev.posthorn.bench;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;

import javax.management.NotificationEmitter;
import javax.management.ObjectName;
import javax.management.openmbean.CompositeData;

import com.sun.management.GarbageCollectionNotificationInfo;

/**
 * Tracks two peaks of this JVM's heap. A sampler thread reads the heap use every millisecond, which
 * includes garbage not collected yet. The use right after each collection is an upper bound of the
 * live data at that moment.
 */
final class HeapWatch implements AutoCloseable {

    private static final long SAMPLE_MILLIS = 1;

    private final MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
    private final AtomicLong peakUsed = new AtomicLong();
    private final AtomicLong peakAfterCollection = new AtomicLong();
    private final Thread sampler;
    private volatile boolean running = true;

    HeapWatch() {
        Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(pool -> pool.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName)
                .collect(Collectors.toSet());
        for (GarbageCollectorMXBean collector : ManagementFactory.getGarbageCollectorMXBeans()) {
            ((NotificationEmitter) collector).addNotificationListener((notification, handback) -> {
                if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
                    GarbageCollectionNotificationInfo info =
                            GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
                    // The collector reports every memory pool, Metaspace and code cache too, so keep the heap pools.
                    long after = info.getGcInfo().getMemoryUsageAfterGc().entrySet().stream()
                            .filter(pool -> heapPools.contains(pool.getKey()))
                            .mapToLong(pool -> pool.getValue().getUsed()).sum();
                    peakAfterCollection.accumulateAndGet(after, Math::max);
                }
            }, null, null);
        }
        sampler = new Thread(() -> {
            while (running) {
                peakUsed.accumulateAndGet(memory.getHeapMemoryUsage().getUsed(), Math::max);
                try {
                    Thread.sleep(SAMPLE_MILLIS);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }, "bench-heap-sampler");
        sampler.setDaemon(true);
        sampler.start();
    }

    /** Starts a new measurement window for both peaks. */
    void reset() {
        peakUsed.set(memory.getHeapMemoryUsage().getUsed());
        peakAfterCollection.set(0);
    }

    long peakUsed() {
        return Math.max(peakUsed.get(), memory.getHeapMemoryUsage().getUsed());
    }

    long peakAfterCollection() {
        return peakAfterCollection.get();
    }

    /** Runs full collections and returns the heap still in use: the live data. */
    long liveAfterFullCollection() {
        System.gc();
        System.gc();
        return memory.getHeapMemoryUsage().getUsed();
    }

    long maxHeap() {
        return memory.getHeapMemoryUsage().getMax();
    }

    /**
     * Returns the first {@code lines} lines of a class histogram of the live heap, from the same
     * diagnostic command as {@code jcmd PID GC.class_histogram}.
     */
    static String classHistogram(int lines) {
        try {
            Object text = ManagementFactory.getPlatformMBeanServer().invoke(
                    new ObjectName("com.sun.management:type=DiagnosticCommand"), "gcClassHistogram",
                    new Object[] {new String[0]}, new String[] {String[].class.getName()});
            return String.join("\n", String.valueOf(text).lines().limit(lines).toList());
        } catch (Exception e) {
            return "class histogram not available: " + e;
        }
    }

    @Override
    public void close() {
        running = false;
        sampler.interrupt();
    }
}
