package dev.posthorn.it.micro.support;

import java.io.IOException;
import java.io.StringReader;
import java.net.InetAddress;
import java.net.URI;
import java.net.URL;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * Calls the test application's REST endpoints over HTTP. Every endpoint takes form fields and returns
 * {@link Properties} text, which keeps the test JVM free of JSON libraries.
 */
public final class AppClient {

    private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(60);

    private final URI restRoot;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    /**
     * @param applicationUrl the deployment's URL as Arquillian reports it, which must be a loopback
     *        address because the tests contact nothing else
     * @param contextRoot the deployment's context root, used when Arquillian reports only the server's
     *        URL, as it sometimes does when it reads Payara Micro's list of deployments too early
     */
    public AppClient(URL applicationUrl, String contextRoot) throws IOException {
        if (!InetAddress.getByName(applicationUrl.getHost()).isLoopbackAddress()) {
            throw new IllegalStateException("Payara Micro reported " + applicationUrl + ", which is not a loopback "
                    + "address; check the listener and public-address settings in preboot.asadmin");
        }
        String base = applicationUrl.toExternalForm().replaceAll("/?$", "/");
        if (applicationUrl.getPath().isEmpty() || "/".equals(applicationUrl.getPath())) {
            base = base + contextRoot + "/";
        }
        this.restRoot = URI.create(base + "api/");
    }

    /** Starts a form for a POST to {@code path}, relative to the REST root. */
    public Form post(String path) {
        return new Form(restRoot.resolve(path));
    }

    /** Sends a GET to {@code path}, relative to the REST root, and returns the status and body. */
    public HttpResponse<String> get(String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(restRoot.resolve(path)).timeout(REQUEST_TIMEOUT).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    /** Form fields for one POST request. */
    public final class Form {
        private final URI target;
        private final Map<String, String> fields = new LinkedHashMap<>();

        private Form(URI target) {
            this.target = target;
        }

        public Form field(String name, Object value) {
            fields.put(name, String.valueOf(value));
            return this;
        }

        /** Sends the request and returns the reply's values. Throws an AssertionError unless the status is 200. */
        public Properties send() throws IOException, InterruptedException {
            String body = fields.entrySet().stream()
                    .map(e -> encode(e.getKey()) + "=" + encode(e.getValue()))
                    .collect(Collectors.joining("&"));
            HttpRequest request = HttpRequest.newBuilder(target)
                    .timeout(REQUEST_TIMEOUT)
                    .header("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
                    .POST(HttpRequest.BodyPublishers.ofString(body, StandardCharsets.UTF_8))
                    .build();
            HttpResponse<String> response =
                    http.send(request, HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
            if (response.statusCode() != 200) {
                throw new AssertionError("POST " + target + " returned HTTP " + response.statusCode() + ":\n"
                        + response.body());
            }
            Properties values = new Properties();
            values.load(new StringReader(response.body()));
            return values;
        }

        private String encode(String value) {
            return URLEncoder.encode(value, StandardCharsets.UTF_8);
        }
    }
}
