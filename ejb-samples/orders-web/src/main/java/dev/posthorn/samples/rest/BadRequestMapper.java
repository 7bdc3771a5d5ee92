package dev.posthorn.samples.rest;

import jakarta.ws.rs.BadRequestException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/**
 * Gives the 400 that the JAX-RS runtime raises for a request it cannot read, such as an empty body, the
 * same JSON error body as every other error. A 400 that a resource built with its own body passes as it is.
 */
@Provider
public class BadRequestMapper implements ExceptionMapper<BadRequestException> {

    @Override
    public Response toResponse(BadRequestException e) {
        if (e.getResponse().hasEntity()) {
            return e.getResponse();
        }
        String reason = UnreadableBodyMapper.deepestMessage(e);
        return Response.status(Response.Status.BAD_REQUEST)
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(ErrorView.message("The request body could not be read (" + reason + "): send a JSON "
                        + "object with the fields this resource expects"))
                .build();
    }
}
