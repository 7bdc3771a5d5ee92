package dev.posthorn.samples.rest;

import dev.posthorn.samples.OrderFailedException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.ext.ExceptionMapper;
import jakarta.ws.rs.ext.Provider;

/** Maps a failed order to 422 Unprocessable Content: the request was valid, but the order was rolled back. */
@Provider
public class OrderFailedExceptionMapper implements ExceptionMapper<OrderFailedException> {

    private static final int UNPROCESSABLE_CONTENT = 422;

    @Override
    public Response toResponse(OrderFailedException e) {
        return Response.status(UNPROCESSABLE_CONTENT)
                .type(MediaType.APPLICATION_JSON_TYPE)
                .entity(ErrorView.message(e.getMessage()))
                .build();
    }
}
