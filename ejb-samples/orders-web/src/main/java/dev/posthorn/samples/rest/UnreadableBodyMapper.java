package dev.posthorn.samples.rest;

import jakarta.json.JsonException;
import jakarta.json.bind.JsonbException;
import jakarta.ws.rs.ProcessingException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/**
 * Maps a request body that is not JSON, or not JSON of the expected shape, to 400 Bad Request. The JSON-B
 * provider reports it as a {@link ProcessingException} caused by a {@link JsonbException} or a
 * {@link JsonException}, which would otherwise become the server's 500 page. Other processing failures
 * stay 500.
 */
@Provider
public class UnreadableBodyMapper implements ExceptionMapper<ProcessingException> {

    @Override
    public Response toResponse(ProcessingException e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof JsonbException || cause instanceof JsonException) {
                return json(Response.Status.BAD_REQUEST, "The request body could not be read as the expected "
                        + "JSON (" + deepestMessage(e) + "): send a JSON object with the fields this resource expects");
            }
        }
        return json(Response.Status.INTERNAL_SERVER_ERROR, "Processing the request failed: " + deepestMessage(e));
    }

    private static Response json(Response.Status status, String error) {
        return Response.status(status).type(MediaType.APPLICATION_JSON_TYPE).entity(ErrorView.message(error)).build();
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
