package dev.posthorn.samples.rest;

import java.util.List;

import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.NotFoundException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * The JSON body of every error response. Fields that do not apply are left out.
 *
 * @param error what failed, for people to read
 * @param field the request or message field at fault
 * @param kind the Posthorn failure kind, such as {@code TRANSIENT} or {@code PERMANENT}
 * @param replyCode the SMTP server's reply code
 * @param enhancedStatus the SMTP server's enhanced status code, such as {@code 5.1.1}
 * @param serverText the SMTP server's reply text
 * @param rejectedRecipients the recipients the SMTP server rejected, each with its reply
 */
public record ErrorView(String error, String field, String kind, Integer replyCode, String enhancedStatus,
                        String serverText, List<String> rejectedRecipients) {

    static ErrorView message(String error) {
        return new ErrorView(error, null, null, null, null, null, null);
    }

    static BadRequestException badRequest(String field, String error) {
        ErrorView body = new ErrorView(error, field, null, null, null, null, null);
        return new BadRequestException(json(Response.Status.BAD_REQUEST, body));
    }

    static NotFoundException notFound(String error) {
        return new NotFoundException(json(Response.Status.NOT_FOUND, message(error)));
    }

    static Response json(Response.Status status, ErrorView body) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(body).build();
    }

    /** Returns the message of the innermost cause that has one, or the class name of the innermost cause. */
    static String deepestMessage(Throwable e) {
        String message = null;
        Throwable innermost = e;
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause.getMessage() != null) {
                message = cause.getMessage();
            }
            innermost = cause;
        }
        return message == null ? innermost.getClass().getSimpleName() : message;
    }
}
