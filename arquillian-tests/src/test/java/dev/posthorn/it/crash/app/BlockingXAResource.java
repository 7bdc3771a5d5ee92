package dev.posthorn.it.crash.app;

import java.util.logging.Level;
import java.util.logging.Logger;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * An XA resource that a crash test enlists by hand next to the Posthorn pool. It keeps nothing, logs every
 * call with the marker {@value #MARKER}, and can stop the transaction manager in {@code prepare} or
 * {@code commit} by sleeping there, so that the test kills the server at a known point of the two-phase
 * commit.
 */
public final class BlockingXAResource implements XAResource {

    /** Marker that every log message of this resource starts with. */
    public static final String MARKER = "CRASH-TEST-XA";

    /** Where the resource sleeps, if anywhere. */
    public enum BlockAt { NONE, PREPARE, COMMIT }

    private static final Logger LOG = Logger.getLogger(BlockingXAResource.class.getName());

    private final BlockAt blockAt;
    private final long blockMillis;

    public BlockingXAResource(BlockAt blockAt, long blockMillis) {
        this.blockAt = blockAt;
        this.blockMillis = blockMillis;
    }

    @Override
    public void start(Xid xid, int flags) {
        log("start", xid, "flags=" + flags);
    }

    @Override
    public void end(Xid xid, int flags) {
        log("end", xid, "flags=" + flags);
    }

    @Override
    public int prepare(Xid xid) throws XAException {
        log("prepare", xid, "");
        block(BlockAt.PREPARE, xid);
        return XA_OK;
    }

    @Override
    public void commit(Xid xid, boolean onePhase) throws XAException {
        log("commit", xid, "onePhase=" + onePhase);
        block(BlockAt.COMMIT, xid);
    }

    @Override
    public void rollback(Xid xid) {
        log("rollback", xid, "");
    }

    @Override
    public void forget(Xid xid) {
        log("forget", xid, "");
    }

    @Override
    public Xid[] recover(int flag) {
        log("recover", null, "flag=" + flag);
        return new Xid[0];
    }

    @Override
    public boolean isSameRM(XAResource other) {
        return other == this;
    }

    @Override
    public int getTransactionTimeout() {
        return 0;
    }

    @Override
    public boolean setTransactionTimeout(int seconds) {
        return false;
    }

    private void block(BlockAt point, Xid xid) throws XAException {
        if (blockAt != point) {
            return;
        }
        log("blocking-in-" + point.name().toLowerCase(java.util.Locale.ROOT), xid, "for " + blockMillis + " ms");
        try {
            Thread.sleep(blockMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            XAException failure = new XAException("interrupted while blocking in " + point);
            failure.errorCode = XAException.XAER_RMFAIL;
            throw failure;
        }
    }

    private static void log(String call, Xid xid, String detail) {
        LOG.log(Level.INFO, "{0} {1} xid={2} {3} thread={4}", new Object[] {MARKER, call,
                xid == null ? "-" : describe(xid), detail, Thread.currentThread().getName()});
    }

    /** Formats an Xid as formatId:globalIdHex:branchHex, the form the adapter logs. */
    public static String describe(Xid xid) {
        return xid.getFormatId() + ":" + hex(xid.getGlobalTransactionId()) + ":" + hex(xid.getBranchQualifier());
    }

    private static String hex(byte[] bytes) {
        StringBuilder text = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            text.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
        }
        return text.toString();
    }
}
