package dev.gpuwatch.exporter.modelserver.discovery;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CgroupsTest {
    private static final String ID = "3f4b2a1c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "-", value = {
        // cgroup v2, systemd driver, containerd
        "0::/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f6c2a1e_7b3d_4c8e_9a5f_1d2e3c4b5a69.slice/cri-containerd-" + ID + ".scope"
                + "|containerd://" + ID + "|0f6c2a1e-7b3d-4c8e-9a5f-1d2e3c4b5a69",
        // cgroup v2, systemd driver, CRI-O, guaranteed QoS (no QoS slice)
        "0::/kubepods.slice/kubepods-pod0f6c2a1e_7b3d_4c8e_9a5f_1d2e3c4b5a69.slice/crio-" + ID + ".scope"
                + "|cri-o://" + ID + "|0f6c2a1e-7b3d-4c8e-9a5f-1d2e3c4b5a69",
        // CRI-O's monitor, not the container
        "0::/kubepods.slice/kubepods-pod0f6c2a1e_7b3d_4c8e_9a5f_1d2e3c4b5a69.slice/crio-conmon-" + ID + ".scope"
                + "|-|0f6c2a1e-7b3d-4c8e-9a5f-1d2e3c4b5a69",
        // cgroup v1, cgroupfs driver
        "12:memory:/kubepods/besteffort/pod0f6c2a1e-7b3d-4c8e-9a5f-1d2e3c4b5a69/" + ID
                + "|containerd://" + ID + "|0f6c2a1e-7b3d-4c8e-9a5f-1d2e3c4b5a69",
        // plain Docker, v1 and v2 with the systemd driver
        "11:cpuset:/docker/" + ID + "|docker://" + ID + "|-",
        "0::/system.slice/docker-" + ID + ".scope|docker://" + ID + "|-",
        // Podman
        "0::/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + ID + ".scope|podman://" + ID + "|-",
        // on the host: a systemd service, a login session
        "0::/system.slice/vllm.service|-|-",
        "0::/user.slice/user-1000.slice/session-3.scope|-|-",
    })
    void readsContainerAndPod(String line, String container, String pod) {
        ContainerRef ref = Cgroups.parse("1:name=systemd:/\n" + line + "\n");
        assertEquals(Optional.ofNullable(container), ref.containerId());
        assertEquals(Optional.ofNullable(pod), ref.podUid());
    }
}
