package dev.posthorn.outbound;

import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

/**
 * XA resource of one managed connection. Sending inside a transaction only records the message in the
 * transaction's branch. This resource decides what happens to it: commit releases it for delivery and
 * rollback discards it.
 *
 * <p>NOTE: branches live in memory, so a prepared branch does not survive a server crash and
 * {@link #recover(int)} returns none. A durable spool that {@code prepare} forces to disk removes
 * that gap.
 */
final class MailXAResource implements XAResource {

    private static final Logger LOG = Logger.getLogger(MailXAResource.class.getName());

    private final MailManagedConnection connection;
    private final Map<XidKey, TransactionBranch> branches = new ConcurrentHashMap<>();
    private volatile TransactionBranch active;

    MailXAResource(MailManagedConnection connection) {
        this.connection = connection;
    }

    /** Returns the branch the calling thread's work belongs to, or {@code null} outside a transaction. */
    TransactionBranch activeBranch() {
        return active;
    }

    @Override
    public void start(Xid xid, int flags) throws XAException {
        XidKey key = XidKey.of(xid);
        if ((flags & (TMJOIN | TMRESUME)) != 0) {
            TransactionBranch branch = branches.get(key);
            if (branch == null) {
                throw xaException(XAException.XAER_NOTA, "start with flags " + flags + " for an unknown branch " + key);
            }
            active = branch;
            return;
        }
        if (branches.containsKey(key)) {
            throw xaException(XAException.XAER_DUPID, "branch " + key + " was already started");
        }
        TransactionBranch branch = connection.newBranch(true);
        branches.put(key, branch);
        active = branch;
    }

    @Override
    public void end(Xid xid, int flags) throws XAException {
        TransactionBranch branch = require(xid);
        if (active == branch) {
            active = null;
        }
    }

    @Override
    public int prepare(Xid xid) throws XAException {
        XidKey key = XidKey.of(xid);
        TransactionBranch branch = require(xid);
        if (branch.isEmpty()) {
            branches.remove(key);
            return XA_RDONLY;
        }
        branch.prepared();
        return XA_OK;
    }

    @Override
    public void commit(Xid xid, boolean onePhase) throws XAException {
        TransactionBranch branch = branches.remove(XidKey.of(xid));
        if (branch == null) {
            throw xaException(XAException.XAER_NOTA, "commit of an unknown branch " + XidKey.of(xid));
        }
        branch.committed();
    }

    @Override
    public void rollback(Xid xid) throws XAException {
        TransactionBranch branch = branches.remove(XidKey.of(xid));
        if (branch == null) {
            throw xaException(XAException.XAER_NOTA, "rollback of an unknown branch " + XidKey.of(xid));
        }
        if (active == branch) {
            active = null;
        }
        branch.rolledBack();
    }

    @Override
    public void forget(Xid xid) throws XAException {
        branches.remove(XidKey.of(xid));
    }

    @Override
    public Xid[] recover(int flag) {
        return new Xid[0];
    }

    /** Returns true only for this instance, because each managed connection is its own resource manager. */
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

    private TransactionBranch require(Xid xid) throws XAException {
        TransactionBranch branch = branches.get(XidKey.of(xid));
        if (branch == null) {
            throw xaException(XAException.XAER_NOTA, "unknown branch " + XidKey.of(xid));
        }
        return branch;
    }

    private XAException xaException(int errorCode, String message) {
        LOG.log(Level.WARNING, "{0}: XA protocol error: {1}", new Object[] {connection.name(), message});
        XAException e = new XAException(connection.name() + ": " + message);
        e.errorCode = errorCode;
        return e;
    }

    /** Value key for an {@link Xid}, whose implementations need not define equals. */
    private record XidKey(int formatId, byte[] globalId, byte[] branchId) {

        static XidKey of(Xid xid) {
            return new XidKey(xid.getFormatId(), xid.getGlobalTransactionId(), xid.getBranchQualifier());
        }

        @Override
        public boolean equals(Object other) {
            return other instanceof XidKey key && formatId == key.formatId
                    && Arrays.equals(globalId, key.globalId) && Arrays.equals(branchId, key.branchId);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * formatId + Arrays.hashCode(globalId)) + Arrays.hashCode(branchId);
        }

        @Override
        public String toString() {
            return formatId + ":" + hex(globalId) + ":" + hex(branchId);
        }

        private static String hex(byte[] bytes) {
            StringBuilder text = new StringBuilder(bytes.length * 2);
            for (byte b : bytes) {
                text.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
            }
            return text.toString();
        }
    }
}
