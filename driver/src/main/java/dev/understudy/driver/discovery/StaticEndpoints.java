package dev.understudy.driver.discovery;

import dev.understudy.driver.HostPort;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** The proxies a URL lists. */
final class StaticEndpoints implements Endpoints {

    private final List<HostPort> proxies;

    StaticEndpoints(List<HostPort> proxies) {
        this.proxies = List.copyOf(proxies);
    }

    @Override
    public List<HostPort> proxies() {
        return proxies;
    }

    @Override
    public Optional<Topology> topology() {
        return Optional.empty();
    }

    @Override
    public void awaitChange(long nanos) throws InterruptedException {
        TimeUnit.NANOSECONDS.sleep(nanos);
    }

    @Override
    public String describe() {
        return "proxies " + proxies;
    }
}
