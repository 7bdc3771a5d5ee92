package dev.posthorn.samples.rest;

import java.util.List;
import java.util.logging.Level;
import java.util.logging.Logger;

import dev.posthorn.api.InvalidMessageException;
import dev.posthorn.api.MailException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/**
 * Turns Posthorn's exceptions into HTTP responses: 400 for a message that can never be sent, 503 with
 * {@code Retry-After} when a later attempt may succeed, and 502 when the mail server rejected the
 * message for good.
 */
@Provider
public class MailExceptionMapper implements ExceptionMapper<MailException> {

    private static final Logger LOG = Logger.getLogger(MailExceptionMapper.class.getName());

    /** Seconds a client should wait before it retries after a transient failure. */
    private static final int RETRY_AFTER_SECONDS = 60;

    @Override
    public Response toResponse(MailException e) {
        if (e instanceof InvalidMessageException invalid) {
            return Response.status(Response.Status.BAD_REQUEST)
                    .type(MediaType.APPLICATION_JSON_TYPE)
                    .entity(new ErrorView(invalid.getMessage(), invalid.getField(), invalid.getKind().name(),
                            null, null, null, null))
                    .build();
        }

        LOG.log(Level.WARNING, "Mail could not be sent ({0}): {1}", new Object[] {e.getKind(), e.getMessage()});
        LOG.log(Level.FINE, "Mail failure details", e);
        ErrorView body = new ErrorView(e.getMessage(), null, e.getKind().name(),
                e.getReplyCode() == 0 ? null : e.getReplyCode(), e.getEnhancedStatus(), e.getServerText(),
                rejected(e));
        if (e.isTransient()) {
            return Response.status(Response.Status.SERVICE_UNAVAILABLE)
                    .header("Retry-After", RETRY_AFTER_SECONDS)
                    .type(MediaType.APPLICATION_JSON_TYPE)
                    .entity(body)
                    .build();
        }
        return Response.status(Response.Status.BAD_GATEWAY)
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(body)
                .build();
    }

    private static List<String> rejected(MailException e) {
        List<String> rejected = e.getRejectedRecipients().stream()
                .map(r -> r.address() + ": " + r.reply())
                .toList();
        return rejected.isEmpty() ? null : rejected;
    }
}
