package dev.posthorn.spool;

import static dev.posthorn.spool.SpoolMessages.RECIPIENTS;
import static dev.posthorn.spool.SpoolMessages.assertSameMessage;
import static dev.posthorn.spool.SpoolMessages.message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;

import dev.posthorn.api.DeliveryState;
import dev.posthorn.api.DeliveryStatus;
import dev.posthorn.api.RecipientStatus;
import dev.posthorn.api.SmtpReply;
import dev.posthorn.delivery.OutgoingMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Delivery bookkeeping in the spool: claims, deferrals, final states and operator actions across restarts. */
class SpoolDeliveryTest {

    private static final long HOUR_MILLIS = 3_600_000;

    private static final List<RecipientStatus> FIRST_RESULTS = List.of(
            new RecipientStatus("alice@example.org", true, new SmtpReply(250, "2.1.5", "OK")),
            new RecipientStatus("bob@example.org", false, new SmtpReply(451, "4.7.1", "Try again later")),
            new RecipientStatus("carol@example.org", false, new SmtpReply(452, null, "Mailbox full")));
    private static final List<String> STILL_TO_TRY = List.of("bob@example.org", "carol@example.org");

    @TempDir
    Path directory;

    private static long now() {
        return System.currentTimeMillis();
    }

    private Spool open() throws IOException {
        return Spool.open("mail", directory);
    }

    /** Adds messages that committed outside the spool's own transaction branches, so they are due at once. */
    private static void queue(Spool spool, OutgoingMessage... messages) {
        spool.addCommitted(List.of(messages), "shop", null);
    }

    private static void deferFirstAttempt(Spool spool, Spool.Claim claim, long nextAttemptAt) {
        spool.defer(claim, STILL_TO_TRY, FIRST_RESULTS, nextAttemptAt, "451 4.7.1 Try again later", false);
    }

    @Test
    void deferredMessageDueAtNextAttempt() throws IOException {
        OutgoingMessage message = message("T1");
        try (Spool spool = open()) {
            queue(spool, message);
            long nextAttemptAt = now() + HOUR_MILLIS;

            deferFirstAttempt(spool, spool.claimDue(now()), nextAttemptAt);

            assertNull(spool.claimDue(nextAttemptAt - 1), "not due a millisecond early");
            assertEquals(nextAttemptAt, spool.nextDueAt());
            Spool.Claim retry = spool.claimDue(nextAttemptAt);
            assertNotNull(retry, "due at nextAttemptAt");
            assertEquals(2, retry.attempt());
            assertEquals(STILL_TO_TRY, retry.message().recipients());
            assertEquals(RECIPIENTS, retry.allRecipients());
            assertEquals(FIRST_RESULTS, retry.results());
        }
    }

    @Test
    void deferredStatusShowsSchedule() throws IOException {
        try (Spool spool = open()) {
            queue(spool, message("T1"));
            long nextAttemptAt = now() + HOUR_MILLIS;

            deferFirstAttempt(spool, spool.claimDue(now()), nextAttemptAt);

            DeliveryStatus status = spool.status("T1").orElseThrow();
            assertEquals(DeliveryState.DEFERRED, status.state());
            assertEquals(1, status.attempts());
            assertEquals(Instant.ofEpochMilli(nextAttemptAt), status.nextAttemptAt());
            assertEquals(FIRST_RESULTS, status.recipients());
            assertEquals("451 4.7.1 Try again later", status.lastError());
        }
    }

    @Test
    void finishedMessageLeavesSpool() throws IOException {
        List<RecipientStatus> accepted = RECIPIENTS.stream()
                .map(r -> new RecipientStatus(r, true, new SmtpReply(250, "2.1.5", "OK"))).toList();
        try (Spool spool = open()) {
            queue(spool, message("T1"), message("T2"));
            Spool.Claim claim = spool.claimDue(now());

            spool.finish(claim, DeliveryState.SENT, 1, accepted, null);

            DeliveryStatus status = spool.status("T1").orElseThrow();
            assertEquals(DeliveryState.SENT, status.state());
            assertEquals(1, status.attempts());
            assertEquals(accepted, status.recipients());
            assertNull(status.nextAttemptAt());
            assertEquals(List.of("T2"), spool.list(10).stream().map(DeliveryStatus::trackingId).toList());
            assertEquals(1, spool.counts().queued());
            assertEquals(0, spool.counts().inFlight());
        }
        try (Spool spool = open()) {
            assertEquals(List.of("T2"), spool.list(10).stream().map(DeliveryStatus::trackingId).toList());
            assertEquals("T2", spool.claimDue(now()).message().trackingId());
            assertNull(spool.claimDue(now()));
        }
    }

    @Test
    void resultOfStaleClaimIgnored() throws IOException {
        try (Spool spool = open()) {
            queue(spool, message("T1"));
            Spool.Claim claim = spool.claimDue(now());
            spool.finish(claim, DeliveryState.FAILED, 1, FIRST_RESULTS, "550 rejected");

            spool.defer(claim, STILL_TO_TRY, FIRST_RESULTS, now(), "late result", false);

            assertNull(spool.claimDue(now()));
            assertEquals(DeliveryState.FAILED, spool.status("T1").orElseThrow().state());
        }
    }

    @Test
    void deferredStateSurvivesReopen() throws IOException {
        OutgoingMessage message = message("T1");
        long nextAttemptAt = now() + HOUR_MILLIS;
        try (Spool spool = open()) {
            queue(spool, message);
            deferFirstAttempt(spool, spool.claimDue(now()), nextAttemptAt);
        }

        try (Spool spool = open()) {
            DeliveryStatus status = spool.status("T1").orElseThrow();
            assertEquals(DeliveryState.DEFERRED, status.state());
            assertEquals(1, status.attempts());
            assertEquals(FIRST_RESULTS, status.recipients());
            assertEquals("451 4.7.1 Try again later", status.lastError());
            assertEquals(List.of(), spool.interruptedAtOpen());
            assertNull(spool.claimDue(nextAttemptAt - 1), "the schedule survives");

            Spool.Claim retry = spool.claimDue(nextAttemptAt);
            assertNotNull(retry, "due at nextAttemptAt");
            assertEquals(2, retry.attempt());
            assertEquals(STILL_TO_TRY, retry.message().recipients());
            assertEquals(RECIPIENTS, retry.allRecipients());
            assertEquals(FIRST_RESULTS, retry.results());
            assertEquals(message.messageId(), retry.message().messageId());
        }
    }

    @Test
    void interruptedAttemptReportedAfterReopen() throws IOException {
        OutgoingMessage message = message("T1");
        try (Spool spool = open()) {
            queue(spool, message, message("T2"));
            assertEquals("T1", spool.claimDue(now()).message().trackingId());
            assertEquals(1, spool.counts().inFlight());
        }

        try (Spool spool = open()) {
            assertEquals(List.of("T1"), spool.interruptedAtOpen());
            assertEquals(0, spool.counts().inFlight());
            assertEquals(2, spool.counts().queued());
            Spool.Claim claim = spool.claimDue(now());
            assertSameMessage(message, claim);
            assertEquals(1, claim.attempt(), "the interrupted attempt never recorded an outcome");
        }
    }

    @Test
    void interruptedRetryReportedAfterReopen() throws IOException {
        try (Spool spool = open()) {
            queue(spool, message("T1"));
            deferFirstAttempt(spool, spool.claimDue(now()), now());
            assertEquals(2, spool.claimDue(now()).attempt());
        }

        try (Spool spool = open()) {
            assertEquals(List.of("T1"), spool.interruptedAtOpen());
            Spool.Claim claim = spool.claimDue(now());
            assertEquals(2, claim.attempt());
            assertEquals(STILL_TO_TRY, claim.message().recipients());
        }
    }

    @Test
    void heldMessageNotClaimable() throws IOException {
        OutgoingMessage message = message("T1");
        try (Spool spool = open()) {
            queue(spool, message);

            assertTrue(spool.hold("T1"));

            assertNull(spool.claimDue(now()));
            assertEquals(DeliveryState.HELD, spool.status("T1").orElseThrow().state());
            assertEquals(1, spool.counts().held());
            assertFalse(spool.hold("T1"), "a held message cannot be held again");
        }
        try (Spool spool = open()) {
            assertNull(spool.claimDue(now()), "the hold survives a restart");
            assertEquals(DeliveryState.HELD, spool.status("T1").orElseThrow().state());

            assertTrue(spool.releaseHeld("T1"));

            assertSameMessage(message, spool.claimDue(now()));
        }
    }

    @Test
    void releasedHoldSurvivesReopen() throws IOException {
        OutgoingMessage message = message("T1");
        try (Spool spool = open()) {
            queue(spool, message);
            spool.hold("T1");
            spool.releaseHeld("T1");
        }

        try (Spool spool = open()) {
            assertEquals(DeliveryState.QUEUED, spool.status("T1").orElseThrow().state());
            assertSameMessage(message, spool.claimDue(now()));
        }
    }

    @Test
    void deferWithHoldHoldsMessage() throws IOException {
        try (Spool spool = open()) {
            queue(spool, message("T1"));
            spool.defer(spool.claimDue(now()), STILL_TO_TRY, FIRST_RESULTS, now(), "uncertain", true);

            assertNull(spool.claimDue(Long.MAX_VALUE));
            assertEquals(DeliveryState.HELD, spool.status("T1").orElseThrow().state());
        }
        try (Spool spool = open()) {
            assertNull(spool.claimDue(Long.MAX_VALUE));
            assertEquals(DeliveryState.HELD, spool.status("T1").orElseThrow().state());
        }
    }

    @Test
    void retryNowMakesDeferredDue() throws IOException {
        try (Spool spool = open()) {
            queue(spool, message("T1"));
            deferFirstAttempt(spool, spool.claimDue(now()), now() + HOUR_MILLIS);

            assertTrue(spool.retryNow("T1"));

            Spool.Claim claim = spool.claimDue(now());
            assertNotNull(claim, "due at once");
            assertEquals(2, claim.attempt());
            assertFalse(spool.retryNow("T1"), "a message in flight cannot be retried");
        }
    }

    @Test
    void retryNowSurvivesReopen() throws IOException {
        try (Spool spool = open()) {
            queue(spool, message("T1"));
            deferFirstAttempt(spool, spool.claimDue(now()), now() + HOUR_MILLIS);
            spool.retryNow("T1");
        }

        try (Spool spool = open()) {
            Spool.Claim claim = spool.claimDue(now());
            assertNotNull(claim, "still due at once after a restart");
            assertEquals(2, claim.attempt());
            assertEquals(STILL_TO_TRY, claim.message().recipients());
            assertEquals(FIRST_RESULTS, claim.results());
        }
    }

    @Test
    void retryNowReleasesHeldMessage() throws IOException {
        try (Spool spool = open()) {
            queue(spool, message("T1"));
            spool.hold("T1");

            assertTrue(spool.retryNow("T1"));

            assertEquals(DeliveryState.QUEUED, spool.status("T1").orElseThrow().state());
        }
        try (Spool spool = open()) {
            assertNotNull(spool.claimDue(now()), "released for good");
        }
    }

    @Test
    void deletedMessageGoneAfterReopen() throws IOException {
        try (Spool spool = open()) {
            queue(spool, message("T1"), message("T2"));
            spool.hold("T2");

            assertTrue(spool.delete("T1"));
            assertTrue(spool.delete("T2"));

            assertEquals(DeliveryState.DELETED, spool.status("T1").orElseThrow().state());
            assertEquals("deleted by an operator", spool.status("T1").orElseThrow().lastError());
            assertNull(spool.claimDue(now()));
            assertEquals(List.of(), spool.list(10));
            assertFalse(spool.delete("T1"), "a deleted message cannot be deleted again");
        }
        try (Spool spool = open()) {
            assertNull(spool.claimDue(now()));
            assertEquals(List.of(), spool.list(10));
            assertEquals(0, spool.counts().held());
        }
    }

    @Test
    void messageInFlightCannotBeDeleted() throws IOException {
        try (Spool spool = open()) {
            queue(spool, message("T1"));
            Spool.Claim claim = spool.claimDue(now());

            assertFalse(spool.delete("T1"));
            assertFalse(spool.hold("T1"));

            spool.abandon(claim);
            assertNotNull(spool.claimDue(now()), "an abandoned claim is due again");
        }
    }
}
