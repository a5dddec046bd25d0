package e2e_test

import (
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golm/lmutil/protocol"
	"golm/lmutil/server/servertest"
)

// rawToEnv and rawFramesEnv make the test binary a one-shot client
// (rawMain): it sends the frames to 127.0.0.1:port and prints the answer.
const (
	rawToEnv     = "GOLM_E2E_RAW_TO"
	rawFramesEnv = "GOLM_E2E_RAW_FRAMES"
)

// nobody is the unprivileged uid forged requests are sent as.
const nobody = 65534

// rawMain is the test binary run by callAs: it writes the hex frames of
// $GOLM_E2E_RAW_FRAMES (a Hello and one request) to the port in
// $GOLM_E2E_RAW_TO, reads the server's Hello and answer, and prints
// "OK" or the answer's "code,minor".
func rawMain() bool {
	port := os.Getenv(rawToEnv)
	if port == "" {
		return false
	}
	out, err := rawCall(port, os.Getenv(rawFramesEnv))
	if err != nil {
		out = "error: " + err.Error()
	}
	fmt.Println(out)
	return true
}

func rawCall(port, frames string) (string, error) {
	b, err := hex.DecodeString(frames)
	if err != nil {
		return "", err
	}
	nc, err := net.DialTimeout("tcp", "127.0.0.1:"+port, deadline)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(deadline))
	if _, err := nc.Write(b); err != nil {
		return "", err
	}
	c := protocol.NewConn(nc)
	for i := 0; i < 2; i++ {
		m, err := c.Recv()
		if err != nil {
			return "", err
		}
		if e, ok := m.(*protocol.Error); ok {
			return fmt.Sprintf("%d,%d", e.Code, e.Minor), nil
		}
	}
	return "OK", nil
}

// callAs sends hello and req to 127.0.0.1:port from a process of uid
// running exe (the test binary as worldCopy copied it) and returns "OK"
// or the FlexLM "code,minor" of the answer. The kernel, not the hello,
// says who is asking.
func callAs(t *testing.T, exe string, uid, port int, hello *protocol.Hello, req protocol.Message) string {
	t.Helper()
	cmd := exec.Command(exe)
	cmd.Env = []string{rawToEnv + "=" + strconv.Itoa(port), rawFramesEnv + "=" + hex.EncodeToString(frames(t, hello, req)), servertest.RaceExitEnv()}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("request as uid %d: %v", uid, err)
	}
	return strings.TrimSpace(string(out))
}

// worldCopy copies the test binary into a directory every user can
// enter, so that another uid can run it.
func worldCopy(t *testing.T) string {
	t.Helper()
	src, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return servertest.WorldCopy(t, src, "e2e.test")
}
