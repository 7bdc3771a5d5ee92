package dev.posthorn.smtp;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.posthorn.api.SmtpReply;

/** Parses the reply text that Angus Mail keeps, one or more lines of "code[- ]text". */
final class Replies {

    private static final Pattern ENHANCED_STATUS = Pattern.compile("^([245]\\.\\d{1,3}\\.\\d{1,3})\\s*(.*)$");

    private Replies() {
    }

    /**
     * Builds a reply from Angus's last server response and return code.
     *
     * @param code the return code Angus parsed; -1 when the server closed the connection
     * @param response the raw lines, or {@code null}
     */
    static SmtpReply parse(int code, String response) {
        if (response == null || response.isBlank() || "[EOF]".equals(response.trim())) {
            return new SmtpReply(code, null, "connection closed by the server");
        }
        StringBuilder text = new StringBuilder();
        String enhanced = null;
        for (String line : response.split("\r?\n")) {
            String body = line.length() > 4 && Character.isDigit(line.charAt(0)) ? line.substring(4) : line.trim();
            Matcher matcher = ENHANCED_STATUS.matcher(body);
            if (matcher.matches()) {
                enhanced = enhanced == null ? matcher.group(1) : enhanced;
                body = matcher.group(2);
            }
            if (!body.isEmpty()) {
                text.append(text.length() == 0 ? "" : " ").append(body);
            }
        }
        return new SmtpReply(code, enhanced, text.toString());
    }
}
