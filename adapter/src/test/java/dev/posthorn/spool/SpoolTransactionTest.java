package dev.posthorn.spool;

import static dev.posthorn.spool.SpoolMessages.assertSameMessage;
import static dev.posthorn.spool.SpoolMessages.branch;
import static dev.posthorn.spool.SpoolMessages.message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

import dev.posthorn.api.DeliveryState;
import dev.posthorn.delivery.OutgoingMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The XA lifecycle of spooled messages: prepare, commit, rollback and recovery after a restart. */
class SpoolTransactionTest {

    @TempDir
    Path directory;

    private static long now() {
        return System.currentTimeMillis();
    }

    @Test
    void committedMessageIsClaimable() throws IOException {
        OutgoingMessage message = message("T1");
        BranchId branch = branch(1);
        try (Spool spool = Spool.open("mail", directory)) {
            spool.add(message, branch, "shop");
            assertEquals(DeliveryState.PENDING, spool.status("T1").orElseThrow().state());
            assertNull(spool.claimDue(now()), "nothing is deliverable before commit");

            assertTrue(spool.prepare(branch));
            List<String> committed = spool.commit(branch, false, false, null);

            assertEquals(List.of("T1"), committed);
            assertFalse(spool.contains(branch));
            assertEquals(DeliveryState.QUEUED, spool.status("T1").orElseThrow().state());
            Spool.Claim claim = spool.claimDue(now());
            assertSameMessage(message, claim);
            assertEquals(1, claim.attempt());
            assertEquals("shop", claim.application());
            assertNull(claim.results());
            assertNull(spool.claimDue(now()), "a claimed message is not claimed twice");
        }
    }

    @Test
    void onePhaseCommitIsClaimable() throws IOException {
        OutgoingMessage message = message("T1");
        BranchId branch = branch(1);
        try (Spool spool = Spool.open("mail", directory)) {
            spool.add(message, branch, "shop");

            assertEquals(List.of("T1"), spool.commit(branch, true, false, null));

            assertSameMessage(message, spool.claimDue(now()));
        }
    }

    @Test
    void rolledBackMessageIsDiscarded() throws IOException {
        BranchId branch = branch(1);
        try (Spool spool = Spool.open("mail", directory)) {
            spool.add(message("T1"), branch, "shop");
            spool.add(message("T2"), branch, "shop");

            assertTrue(spool.rollback(branch));

            assertNull(spool.claimDue(now()));
            assertFalse(spool.contains(branch));
            assertTrue(spool.status("T1").isEmpty(), "T1 is unknown");
            assertFalse(spool.rollback(branch), "a second rollback finds no branch");
        }
        try (Spool spool = Spool.open("mail", directory)) {
            assertNull(spool.claimDue(now()));
            assertEquals(List.of(), spool.list(10));
        }
    }

    @Test
    void prepareOfUnknownBranchReturnsFalse() throws IOException {
        try (Spool spool = Spool.open("mail", directory)) {
            assertFalse(spool.prepare(branch(1)));
            assertEquals(List.of(), spool.commit(branch(1), false, false, null));
        }
    }

    @Test
    void unpreparedBranchPresumedAbortedOnReopen() throws IOException {
        BranchId branch = branch(1);
        try (Spool spool = Spool.open("mail", directory)) {
            spool.add(message("T1"), branch, "shop");
        }

        try (Spool spool = Spool.open("mail", directory)) {
            assertNull(spool.claimDue(now()));
            assertEquals(List.of(), spool.inDoubt());
            assertFalse(spool.contains(branch));
            assertTrue(spool.status("T1").isEmpty(), "T1 is unknown");
        }
    }

    @Test
    void preparedBranchInDoubtAfterReopen() throws IOException {
        OutgoingMessage first = message("T1");
        OutgoingMessage second = message("T2");
        BranchId branch = branch(1);
        try (Spool spool = Spool.open("mail", directory)) {
            spool.add(first, branch, "shop");
            spool.add(second, branch, "shop");
            spool.prepare(branch);
        }

        try (Spool spool = Spool.open("mail", directory)) {
            assertEquals(List.of(branch), spool.inDoubt());
            assertTrue(spool.contains(branch));
            assertNull(spool.claimDue(now()), "an in-doubt message is not deliverable");
            assertEquals(DeliveryState.PENDING, spool.status("T1").orElseThrow().state());

            assertEquals(List.of("T1", "T2"), spool.commit(branch, false, false, null));

            assertEquals(List.of(), spool.inDoubt());
            assertSameMessage(first, spool.claimDue(now()));
            assertSameMessage(second, spool.claimDue(now()));
        }
    }

    @Test
    void recoveredCommitSurvivesReopen() throws IOException {
        OutgoingMessage message = message("T1");
        BranchId branch = branch(1);
        try (Spool spool = Spool.open("mail", directory)) {
            spool.add(message, branch, "shop");
            spool.prepare(branch);
        }
        try (Spool spool = Spool.open("mail", directory)) {
            spool.commit(BranchId.of(branch), false, false, null);
        }

        try (Spool spool = Spool.open("mail", directory)) {
            assertEquals(List.of(), spool.inDoubt());
            assertSameMessage(message, spool.claimDue(now()));
        }
    }

    @Test
    void preparedRollbackAfterReopenDiscards() throws IOException {
        BranchId branch = branch(1);
        try (Spool spool = Spool.open("mail", directory)) {
            spool.add(message("T1"), branch, "shop");
            spool.prepare(branch);
        }
        try (Spool spool = Spool.open("mail", directory)) {
            assertTrue(spool.rollback(branch));

            assertEquals(List.of(), spool.inDoubt());
            assertNull(spool.claimDue(now()));
        }

        try (Spool spool = Spool.open("mail", directory)) {
            assertEquals(List.of(), spool.inDoubt());
            assertNull(spool.claimDue(now()));
            assertTrue(spool.status("T1").isEmpty(), "T1 is unknown");
        }
    }

    @Test
    void heldCommitWaitsForRelease() throws IOException {
        OutgoingMessage message = message("T1");
        BranchId branch = branch(1);
        try (Spool spool = Spool.open("mail", directory)) {
            spool.add(message, branch, "shop");
            spool.prepare(branch);

            List<String> ids = spool.commit(branch, false, true, null);

            assertNull(spool.claimDue(now()), "a commit held until release is not deliverable");
            assertEquals(1, spool.counts().queued());

            spool.release(ids, null);

            assertSameMessage(message, spool.claimDue(now()));
        }
    }

    @Test
    void branchesStayIndependent() throws IOException {
        OutgoingMessage committed = message("T1");
        try (Spool spool = Spool.open("mail", directory)) {
            spool.add(committed, branch(1), "shop");
            spool.add(message("T2"), branch(2), "shop");
            spool.prepare(branch(1));
            spool.prepare(branch(2));

            spool.commit(branch(1), false, false, null);
            spool.rollback(branch(2));

            assertSameMessage(committed, spool.claimDue(now()));
            assertNull(spool.claimDue(now()));
        }
    }

    @Test
    void branchIdEqualsOtherXidImplementation() {
        BranchId branch = branch(7);
        javax.transaction.xa.Xid foreign = new javax.transaction.xa.Xid() {
            @Override
            public int getFormatId() {
                return branch.getFormatId();
            }

            @Override
            public byte[] getGlobalTransactionId() {
                return branch.getGlobalTransactionId();
            }

            @Override
            public byte[] getBranchQualifier() {
                return branch.getBranchQualifier();
            }
        };

        assertEquals(branch, BranchId.of(foreign));
        assertEquals(branch.hashCode(), BranchId.of(foreign).hashCode());
    }
}
