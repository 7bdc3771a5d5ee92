package dev.posthorn.delivery;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.posthorn.api.DeliveryState;
import dev.posthorn.api.FailureKind;
import dev.posthorn.api.MailException;
import dev.posthorn.api.RecipientStatus;
import dev.posthorn.api.SendReceipt;

/**
 * Judges one delivery attempt recipient by recipient, as a mail operator would. Accepted recipients are
 * done and recipients rejected with 5xx failed for good. Recipients rejected with 4xx, or cut off by a
 * transient failure of the whole transaction, are left for a later attempt.
 *
 * @param results every envelope recipient's status after this attempt, in envelope order
 * @param remaining the recipients left for a later attempt
 * @param followUpNow whether the remaining recipients go in a new SMTP transaction at once, without a
 *        delay, because the server only limited the number of recipients per transaction (452)
 * @param uncertain whether the server may have accepted the message without the reply arriving
 * @param kind the failure's category, or {@code null} when the attempt succeeded for every recipient tried
 * @param error the failure's description, or {@code null}
 */
record AttemptOutcome(List<RecipientStatus> results, List<String> remaining, boolean followUpNow, boolean uncertain,
                      FailureKind kind, String error) {

    /** Reply code for "too many recipients" (RFC 5321 section 4.5.3.1.10). */
    private static final int TOO_MANY_RECIPIENTS = 452;

    static AttemptOutcome of(List<String> allRecipients, List<RecipientStatus> earlier, SendReceipt receipt) {
        Map<String, RecipientStatus> merged = start(allRecipients, earlier);
        List<String> remaining = new ArrayList<>();
        boolean anyAccepted = false;
        boolean onlyTooMany = true;
        String error = null;
        for (RecipientStatus status : receipt.recipients()) {
            merged.put(status.address(), status);
            if (status.accepted()) {
                anyAccepted = true;
            } else if (status.isTransientFailure()) {
                remaining.add(status.address());
                onlyTooMany &= status.reply() != null && status.reply().code() == TOO_MANY_RECIPIENTS;
                error = "recipient " + status.address() + " deferred: " + status.reply();
            } else if (error == null) {
                error = "recipient " + status.address() + " rejected: " + status.reply();
            }
        }
        boolean followUpNow = !remaining.isEmpty() && anyAccepted && onlyTooMany;
        FailureKind kind = remaining.isEmpty() ? null : FailureKind.TRANSIENT;
        return new AttemptOutcome(List.copyOf(merged.values()), remaining, followUpNow, false, kind, error);
    }

    static AttemptOutcome of(List<String> allRecipients, List<RecipientStatus> earlier, List<String> attempted,
                             MailException failure) {
        Map<String, RecipientStatus> merged = start(allRecipients, earlier);
        Map<String, RecipientStatus> reported = new LinkedHashMap<>();
        for (RecipientStatus status : failure.getRecipients()) {
            reported.put(status.address(), status);
        }
        boolean wholeMessageRetryable = failure.getKind() != FailureKind.PERMANENT
                && failure.getKind() != FailureKind.INVALID_MESSAGE;
        List<String> remaining = new ArrayList<>();
        for (String address : attempted) {
            RecipientStatus status = reported.get(address);
            if (status != null && !status.accepted() && status.reply() != null) {
                // Rejected at RCPT TO: this recipient's own reply decides.
                merged.put(address, status);
                if (status.isTransientFailure()) {
                    remaining.add(address);
                }
            } else {
                // The transaction as a whole failed: the message-level reply decides for this recipient.
                merged.put(address, new RecipientStatus(address, false, failure.getReply()));
                if (wholeMessageRetryable) {
                    remaining.add(address);
                }
            }
        }
        boolean uncertain = failure.getKind() == FailureKind.UNCERTAIN;
        return new AttemptOutcome(List.copyOf(merged.values()), remaining, false, uncertain, failure.getKind(),
                failure.getMessage());
    }

    /** Returns the results so far of a message whose lifetime ended before another attempt. */
    static AttemptOutcome notAttempted(List<String> allRecipients, List<RecipientStatus> earlier, String lastError) {
        Map<String, RecipientStatus> merged = start(allRecipients, earlier);
        List<String> remaining = merged.values().stream().filter(r -> !r.accepted()
                && (r.reply() == null || r.reply().isTransientFailure())).map(RecipientStatus::address).toList();
        return new AttemptOutcome(List.copyOf(merged.values()), remaining, false, false, null, lastError);
    }

    /** Returns the terminal state when no recipient is left, from the merged results. */
    DeliveryState finalState() {
        boolean anyAccepted = results.stream().anyMatch(RecipientStatus::accepted);
        boolean anyRejected = results.stream().anyMatch(r -> !r.accepted());
        if (!anyAccepted) {
            return DeliveryState.FAILED;
        }
        return anyRejected ? DeliveryState.PARTIAL : DeliveryState.SENT;
    }

    /**
     * Describes the recipients that did not accept the message, at most {@code limit} of them with their
     * replies, for a log line about a partial delivery.
     */
    String rejectedRecipients(int limit) {
        List<RecipientStatus> rejected = results.stream().filter(r -> !r.accepted()).toList();
        StringBuilder text = new StringBuilder();
        for (RecipientStatus status : rejected.subList(0, Math.min(limit, rejected.size()))) {
            text.append(text.length() == 0 ? "" : "; ").append(status.address()).append(": ")
                    .append(status.reply() == null ? "no reply" : status.reply());
        }
        if (rejected.size() > limit) {
            text.append("; and ").append(rejected.size() - limit).append(" more");
        }
        return text.toString();
    }

    private static Map<String, RecipientStatus> start(List<String> allRecipients, List<RecipientStatus> earlier) {
        Map<String, RecipientStatus> merged = new LinkedHashMap<>();
        for (String address : allRecipients) {
            merged.put(address, new RecipientStatus(address, false, null));
        }
        if (earlier != null) {
            for (RecipientStatus status : earlier) {
                merged.put(status.address(), status);
            }
        }
        return merged;
    }
}
