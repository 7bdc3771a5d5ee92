package dev.posthorn.samples.rest;

import jakarta.json.JsonException;
import jakarta.json.bind.JsonbException;
import jakarta.ws.rs.ProcessingException;
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
                return ErrorView.json(Response.Status.BAD_REQUEST, ErrorView.message("The request body could not "
                        + "be read as the expected JSON (" + ErrorView.deepestMessage(e) + "): send a JSON object "
                        + "with the fields this resource expects"));
            }
        }
        return ErrorView.json(Response.Status.INTERNAL_SERVER_ERROR,
                ErrorView.message("Processing the request failed: " + ErrorView.deepestMessage(e)));
    }
}
