package dev.posthorn.samples.rest;

import jakarta.ws.rs.ApplicationPath;
import jakarta.ws.rs.core.Application;

/** Serves the sample resources under {@code /api}. */
@ApplicationPath("api")
public class SamplesApplication extends Application {
}
