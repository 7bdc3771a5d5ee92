package dev.posthorn.bench.micro;

import jakarta.ws.rs.ApplicationPath;
import jakarta.ws.rs.core.Application;

/** JAX-RS root of the benchmark WAR: {@code /posthorn-bench/api}. */
@ApplicationPath("api")
public class BenchApplication extends Application {
}
