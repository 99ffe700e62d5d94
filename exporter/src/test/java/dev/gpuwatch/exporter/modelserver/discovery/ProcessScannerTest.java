package dev.gpuwatch.exporter.modelserver.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.gpuwatch.exporter.modelserver.FakeProc;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcessScannerTest {
    @TempDir
    Path root;

    private static final String CONTAINER = "0::/system.slice/docker-" + "a".repeat(64) + ".scope";

    @Test
    void offersEveryListeningAncestorNearestFirst() {
        FakeProc p = new FakeProc(root)
                .netns("self", "net:[1]")
                .process(50, 1, "0::/system.slice/containerd.service")   // the shim: another cgroup
                .process(100, 50, CONTAINER)                               // vLLM API server
                .process(101, 100, CONTAINER)                              // EngineCore: holds GPU memory
                .process(102, 101, CONTAINER)                              // a TP worker: holds GPU memory
                .process(200, 1, "0::/system.slice/sshd.service")        // unrelated, listens on 22
                .netns("100", "net:[1]")
                .socket(100, 7, 555).socket(101, 3, 556).socket(200, 3, 22)
                .listen(100, "0100007F", 8000, 555)                        // 127.0.0.1:8000
                .listen(100, "00000000", 8001, 556)                        // 0.0.0.0:8001 held by the child
                .listen(100, "00000000", 22, 22)                           // sshd's, not in the tree
                .listen(100, "0302010A", 9000, 999);                       // nobody in the tree holds it
        List<ServerProcess> found = new ProcessScanner(new ProcFs(p.root())).scan(Set.of(101, 102, 4242));
        // the worker listens on nothing: no candidate; then the engine's subtree, then the API server's
        assertEquals(2, found.size());
        ServerProcess engine = found.get(0);
        assertEquals(101, engine.rootPid());
        assertEquals(Set.of(101, 102), engine.pids());
        assertEquals(List.of(new Endpoint("127.0.0.1", 8001)), engine.endpoints());
        ServerProcess api = found.get(1);
        assertEquals(100, api.rootPid());
        assertEquals(1100, api.startTime());
        assertEquals(Set.of(100, 101, 102), api.pids());
        assertEquals(List.of(new Endpoint("127.0.0.1", 8000), new Endpoint("127.0.0.1", 8001)), api.endpoints());
    }

    @Test
    void reachesAPodOnItsIpButNotOnItsLoopback() {
        FakeProc p = new FakeProc(root)
                .netns("self", "net:[1]")
                .process(300, 1, "0::/kubepods.slice/x.scope")
                .netns("300", "net:[2]")
                .socket(300, 3, 10).socket(300, 4, 11).socket(300, 5, 12)
                .listen(300, "00000000", 8000, 10)
                .listen(300, "0100007F", 8001, 11)
                .listen(300, "00000000000000000000000000000000", 8002, 12)
                .file("300/net/fib_trie", """
                        Main:
                          +-- 0.0.0.0/0 3 0 5
                             |-- 0.0.0.0
                                /0 universe UNICAST
                             +-- 10.244.1.0/24 2 0 2
                                |-- 10.244.1.7
                                   /32 host LOCAL
                             |-- 127.0.0.1
                                /32 host LOCAL
                        """);
        ServerProcess s = new ProcessScanner(new ProcFs(p.root())).scan(Set.of(300)).get(0);
        assertEquals(List.of(new Endpoint("10.244.1.7", 8000), new Endpoint("10.244.1.7", 8002)), s.endpoints());
    }

    @Test
    void decodesKernelAddresses() throws Exception {
        assertEquals(InetAddress.getByName("127.0.0.1"), ProcFs.address("0100007F"));
        assertEquals(InetAddress.getByName("10.1.2.3"), ProcFs.address("0302010A"));
        assertEquals(InetAddress.getByName("::1"), ProcFs.address("00000000000000000000000001000000"));
    }
}
