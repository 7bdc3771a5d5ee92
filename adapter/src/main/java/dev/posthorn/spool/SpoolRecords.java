package dev.posthorn.spool;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.posthorn.api.RecipientStatus;
import dev.posthorn.api.SmtpReply;

/**
 * Binary form of the spool's records. Every payload starts with a type byte and the format version.
 * Strings are UTF-8 with a length prefix, and a flag byte marks absent values.
 */
final class SpoolRecords {

    static final byte VERSION = 1;

    /** A message and its envelope, written at send time, belonging to a transaction branch or to none. */
    static final byte MESSAGE = 1;
    /** The branch's messages are durable and await the transaction manager's decision. */
    static final byte PREPARED = 2;
    /** The branch committed: its messages are to be delivered. */
    static final byte COMMITTED = 3;
    /** The branch rolled back: its messages are discarded. */
    static final byte ROLLED_BACK = 4;
    /** A delivery attempt began; replay finds it unresolved only after a crash during the attempt. */
    static final byte ATTEMPT_STARTED = 5;
    /** A delivery attempt ended transiently: the remaining recipients, the results so far and the next time. */
    static final byte DEFERRED = 6;
    /** The message left the spool: delivered, failed, expired or deleted. */
    static final byte FINISHED = 7;
    /** An operator held or released the message. */
    static final byte HELD = 8;

    private SpoolRecords() {
    }

    /** The fields of a {@link #MESSAGE} record; {@code branch} is null for a message committed already. */
    record MessageRecord(String trackingId, String messageId, String envelopeFrom, List<String> recipients,
                         String application, long queuedAt, BranchId branch, byte[] content) {
    }

    /** The fields of a {@link #DEFERRED} record. */
    record DeferredRecord(String trackingId, int attempts, long nextAttemptAt, List<String> remaining,
                          List<RecipientStatus> results, String error, boolean held) {
    }

    /** The fields of a {@link #FINISHED} record. */
    record FinishedRecord(String trackingId, byte state, List<RecipientStatus> results, String error) {
    }

    /** Returns the whole {@link #MESSAGE} payload in one array. */
    static byte[] message(MessageRecord record) {
        byte[] head = messageHead(record);
        byte[] payload = Arrays.copyOf(head, head.length + record.content().length);
        System.arraycopy(record.content(), 0, payload, head.length, record.content().length);
        return payload;
    }

    /**
     * Returns the {@link #MESSAGE} record up to the content: the payload is these bytes followed by
     * {@code record.content()}. Writing the two parts separately spares a copy of a large message.
     */
    static byte[] messageHead(MessageRecord record) {
        return write(MESSAGE, out -> {
            writeString(out, record.trackingId());
            writeString(out, record.messageId());
            writeString(out, record.envelopeFrom());
            writeStrings(out, record.recipients());
            writeNullable(out, record.application());
            out.writeLong(record.queuedAt());
            out.writeBoolean(record.branch() != null);
            if (record.branch() != null) {
                writeBranch(out, record.branch());
            }
            out.writeInt(record.content().length);
        });
    }

    static byte[] branch(byte type, BranchId branch) {
        return write(type, out -> writeBranch(out, branch));
    }

    static byte[] attemptStarted(String trackingId, int attempt) {
        return write(ATTEMPT_STARTED, out -> {
            writeString(out, trackingId);
            out.writeInt(attempt);
        });
    }

    static byte[] deferred(DeferredRecord record) {
        return write(DEFERRED, out -> {
            writeString(out, record.trackingId());
            out.writeInt(record.attempts());
            out.writeLong(record.nextAttemptAt());
            writeStrings(out, record.remaining());
            writeResults(out, record.results());
            writeNullable(out, record.error());
            out.writeBoolean(record.held());
        });
    }

    static byte[] finished(FinishedRecord record) {
        return write(FINISHED, out -> {
            writeString(out, record.trackingId());
            out.writeByte(record.state());
            writeResults(out, record.results());
            writeNullable(out, record.error());
        });
    }

    static byte[] held(String trackingId, boolean held) {
        return write(HELD, out -> {
            writeString(out, trackingId);
            out.writeBoolean(held);
        });
    }

    /** Returns the record type, after checking that the payload has a version this code reads. */
    static byte type(ByteBuffer payload) {
        byte type = payload.get();
        byte version = payload.get();
        if (version != VERSION) {
            throw new IllegalArgumentException("spool record version " + version + " is not supported; "
                    + "this Posthorn reads version " + VERSION);
        }
        return type;
    }

    static MessageRecord readMessage(ByteBuffer in) {
        String trackingId = readString(in);
        String messageId = readString(in);
        String envelopeFrom = readString(in);
        List<String> recipients = readStrings(in);
        String application = readNullable(in);
        long queuedAt = in.getLong();
        BranchId branch = in.get() != 0 ? readBranch(in) : null;
        byte[] content = new byte[in.getInt()];
        in.get(content);
        return new MessageRecord(trackingId, messageId, envelopeFrom, recipients, application, queuedAt, branch,
                content);
    }

    static BranchId readBranch(ByteBuffer in) {
        int formatId = in.getInt();
        byte[] global = new byte[in.getShort()];
        in.get(global);
        byte[] qualifier = new byte[in.getShort()];
        in.get(qualifier);
        return new BranchId(formatId, global, qualifier);
    }

    static String readTrackingId(ByteBuffer in) {
        return readString(in);
    }

    static DeferredRecord readDeferred(ByteBuffer in) {
        String trackingId = readString(in);
        int attempts = in.getInt();
        long nextAttemptAt = in.getLong();
        List<String> remaining = readStrings(in);
        List<RecipientStatus> results = readResults(in);
        String error = readNullable(in);
        boolean held = in.get() != 0;
        return new DeferredRecord(trackingId, attempts, nextAttemptAt, remaining, results, error, held);
    }

    static FinishedRecord readFinished(ByteBuffer in) {
        String trackingId = readString(in);
        byte state = in.get();
        List<RecipientStatus> results = readResults(in);
        String error = readNullable(in);
        return new FinishedRecord(trackingId, state, results, error);
    }

    @FunctionalInterface
    private interface Writer {
        void write(DataOutputStream out) throws IOException;
    }

    private static byte[] write(byte type, Writer body) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(type);
            out.writeByte(VERSION);
            body.write(out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    private static void writeBranch(DataOutputStream out, BranchId branch) throws IOException {
        out.writeInt(branch.formatId());
        byte[] global = branch.getGlobalTransactionId();
        out.writeShort(global.length);
        out.write(global);
        byte[] qualifier = branch.getBranchQualifier();
        out.writeShort(qualifier.length);
        out.write(qualifier);
    }

    private static void writeStrings(DataOutputStream out, List<String> values) throws IOException {
        out.writeInt(values.size());
        for (String value : values) {
            writeString(out, value);
        }
    }

    private static void writeResults(DataOutputStream out, List<RecipientStatus> results) throws IOException {
        out.writeInt(results.size());
        for (RecipientStatus result : results) {
            writeString(out, result.address());
            out.writeBoolean(result.accepted());
            SmtpReply reply = result.reply();
            out.writeBoolean(reply != null);
            if (reply != null) {
                out.writeShort(reply.code());
                writeNullable(out, reply.enhancedStatus());
                writeString(out, reply.text());
            }
        }
    }

    private static void writeNullable(DataOutputStream out, String value) throws IOException {
        out.writeBoolean(value != null);
        if (value != null) {
            writeString(out, value);
        }
    }

    /** Writes any length of string; {@link DataOutputStream#writeUTF} stops at 65,535 bytes. */
    private static void writeString(DataOutputStream out, String value) throws IOException {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        out.writeInt(utf8.length);
        out.write(utf8);
    }

    private static String readString(ByteBuffer in) {
        byte[] utf8 = new byte[in.getInt()];
        in.get(utf8);
        return new String(utf8, StandardCharsets.UTF_8);
    }

    private static String readNullable(ByteBuffer in) {
        return in.get() != 0 ? readString(in) : null;
    }

    private static List<String> readStrings(ByteBuffer in) {
        int count = in.getInt();
        List<String> values = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            values.add(readString(in));
        }
        return values;
    }

    private static List<RecipientStatus> readResults(ByteBuffer in) {
        int count = in.getInt();
        List<RecipientStatus> results = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            String address = readString(in);
            boolean accepted = in.get() != 0;
            SmtpReply reply = null;
            if (in.get() != 0) {
                int code = in.getShort();
                String enhanced = readNullable(in);
                reply = new SmtpReply(code, enhanced, readString(in));
            }
            results.add(new RecipientStatus(address, accepted, reply));
        }
        return results;
    }
}
