package dev.posthorn.outbound;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.logging.Level;
import java.util.logging.Logger;

import javax.transaction.xa.XAException;
import javax.transaction.xa.XAResource;
import javax.transaction.xa.Xid;

import dev.posthorn.delivery.DeliveryEngine;
import dev.posthorn.spool.BranchId;
import jakarta.resource.ResourceException;

/**
 * XA resource of one managed connection. Sending inside a transaction appends the message to the
 * factory's spool as part of the transaction's branch. This resource decides what happens to it:
 * prepare forces it to the disk, commit releases it for delivery and rollback discards it.
 *
 * <p>Branches this resource started are tracked here. A branch left in doubt by a crash is known only
 * to the spool: {@link #recover(int)} returns it, and commit or rollback of it goes to the spool
 * directly, through whichever managed connection the transaction manager uses for recovery.
 */
final class MailXAResource implements XAResource {

    private static final Logger LOG = Logger.getLogger(MailXAResource.class.getName());

    private final MailManagedConnection connection;
    private final Map<BranchId, TransactionBranch> branches = new ConcurrentHashMap<>();
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
        BranchId key = BranchId.of(xid);
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
        TransactionBranch branch;
        try {
            branch = connection.newBranch(key);
        } catch (ResourceException e) {
            throw xaException(XAException.XAER_RMERR, "the mail spool is not available: " + e.getMessage(), e);
        }
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
        BranchId key = BranchId.of(xid);
        TransactionBranch branch = require(xid);
        try {
            if (!branch.prepare()) {
                branches.remove(key);
                return XA_RDONLY;
            }
        } catch (RuntimeException e) {
            // The messages could not be made durable, so the transaction must not commit with them.
            branches.remove(key);
            branch.rolledBack();
            throw xaException(XAException.XA_RBOTHER, "prepare of branch " + key + " failed: " + e.getMessage(), e);
        }
        return XA_OK;
    }

    @Override
    public void commit(Xid xid, boolean onePhase) throws XAException {
        BranchId key = BranchId.of(xid);
        TransactionBranch branch = branches.remove(key);
        try {
            if (branch != null) {
                branch.committed(onePhase);
                return;
            }
            DeliveryEngine engine = connection.engine();
            if (!onePhase && engine.spool().contains(key)) {
                engine.spool().commit(key, false, false, null);
                LOG.log(Level.INFO, "{0}: committed recovered branch {1}; its messages are delivered now",
                        new Object[] {connection.name(), key});
                engine.wake();
                return;
            }
        } catch (ResourceException | RuntimeException e) {
            throw xaException(XAException.XAER_RMERR, "commit of branch " + key + " failed: " + e.getMessage(), e);
        }
        throw xaException(XAException.XAER_NOTA, "commit of an unknown branch " + key);
    }

    @Override
    public void rollback(Xid xid) throws XAException {
        BranchId key = BranchId.of(xid);
        TransactionBranch branch = branches.remove(key);
        if (branch != null) {
            if (active == branch) {
                active = null;
            }
            branch.rolledBack();
            return;
        }
        boolean known;
        try {
            known = connection.engine().spool().rollback(key);
        } catch (ResourceException | RuntimeException e) {
            throw xaException(XAException.XAER_RMERR, "rollback of branch " + key + " failed: " + e.getMessage(), e);
        }
        if (known) {
            LOG.log(Level.INFO, "{0}: rolled back recovered branch {1}; its messages are discarded",
                    new Object[] {connection.name(), key});
            return;
        }
        throw xaException(XAException.XAER_NOTA, "rollback of an unknown branch " + key);
    }

    /** Nothing to forget: this resource never completes a branch heuristically. */
    @Override
    public void forget(Xid xid) {
        branches.remove(BranchId.of(xid));
    }

    /** Returns the prepared branches of the spool at the start of a scan, and none on later calls. */
    @Override
    public Xid[] recover(int flag) throws XAException {
        if ((flag & TMSTARTRSCAN) == 0) {
            return new Xid[0];
        }
        try {
            List<BranchId> inDoubt = connection.engine().spool().inDoubt();
            if (!inDoubt.isEmpty()) {
                LOG.log(Level.INFO, "{0}: {1} prepared transaction branch(es) await the transaction manager''s "
                        + "decision: {2}", new Object[] {connection.name(), inDoubt.size(), inDoubt});
            }
            return inDoubt.toArray(new Xid[0]);
        } catch (ResourceException | RuntimeException e) {
            throw xaException(XAException.XAER_RMERR, "reading the spool for recovery failed: " + e.getMessage(), e);
        }
    }

    /**
     * Returns true only for this instance. Connections of one pool share a spool, but active branches are
     * tracked per XA resource, so a branch joined through another connection's resource would not be found.
     */
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
        TransactionBranch branch = branches.get(BranchId.of(xid));
        if (branch == null) {
            throw xaException(XAException.XAER_NOTA, "unknown branch " + BranchId.of(xid));
        }
        return branch;
    }

    private XAException xaException(int errorCode, String message) {
        return xaException(errorCode, message, null);
    }

    private XAException xaException(int errorCode, String message, Throwable cause) {
        LOG.log(Level.WARNING, "{0}: XA error: {1}", new Object[] {connection.name(), message});
        XAException e = new XAException(connection.name() + ": " + message);
        e.errorCode = errorCode;
        if (cause != null) {
            e.initCause(cause);
        }
        return e;
    }
}
