package dev.posthorn.it.micro.app;

import jakarta.ws.rs.ApplicationPath;
import jakarta.ws.rs.core.Application;

/** Publishes the test endpoints under {@code /api}, which the tests call over HTTP on 127.0.0.1. */
@ApplicationPath("api")
public class TestRestApplication extends Application {
}
