package dev.posthorn.spool;

import java.util.Arrays;

import javax.transaction.xa.Xid;

/**
 * An XA branch identifier with value equality, because {@link Xid} implementations need not define
 * equals. The spool stores it, and {@code recover} returns it to the transaction manager.
 */
public record BranchId(int formatId, byte[] globalId, byte[] branchQualifier) implements Xid {

    public BranchId {
        globalId = globalId.clone();
        branchQualifier = branchQualifier.clone();
    }

    public static BranchId of(Xid xid) {
        if (xid instanceof BranchId id) {
            return id;
        }
        return new BranchId(xid.getFormatId(), xid.getGlobalTransactionId(), xid.getBranchQualifier());
    }

    @Override
    public int getFormatId() {
        return formatId;
    }

    @Override
    public byte[] getGlobalTransactionId() {
        return globalId.clone();
    }

    @Override
    public byte[] getBranchQualifier() {
        return branchQualifier.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof BranchId id && formatId == id.formatId
                && Arrays.equals(globalId, id.globalId) && Arrays.equals(branchQualifier, id.branchQualifier);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * formatId + Arrays.hashCode(globalId)) + Arrays.hashCode(branchQualifier);
    }

    @Override
    public String toString() {
        return formatId + ":" + hex(globalId) + ":" + hex(branchQualifier);
    }

    private static String hex(byte[] bytes) {
        StringBuilder text = new StringBuilder(bytes.length * 2);
        for (byte b : bytes) {
            text.append(Character.forDigit((b >> 4) & 0xF, 16)).append(Character.forDigit(b & 0xF, 16));
        }
        return text.toString();
    }
}
