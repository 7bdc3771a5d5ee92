package dev.posthorn.samples.rest;

import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/**
 * Adds the JSON error body to a 400 that the JAX-RS runtime raises without one, such as for an empty
 * request body. A 400 that a resource built with its own body is returned unchanged.
 */
@Provider
public class BadRequestMapper implements ExceptionMapper<BadRequestException> {

    @Override
    public Response toResponse(BadRequestException e) {
        if (e.getResponse().hasEntity()) {
            return e.getResponse();
        }
        return ErrorView.json(Response.Status.BAD_REQUEST, ErrorView.message("The request body could not be read ("
                + ErrorView.deepestMessage(e) + "): send a JSON object with the fields this resource expects"));
    }
}
