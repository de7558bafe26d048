// deploy-check: validates docker-compose.yml with compose-go (the loader docker compose itself
// uses: interpolation, anchors and merges, schema, depends_on consistency) and the Dockerfile with
// BuildKit's own parser, then checks what payproof's deployment must have. Run by
// test/int/deploy-files.int.test.ts; prints one JSON report, exits 1 when a check fails.
//
//	go run . --compose ../../docker-compose.yml --dockerfile ../../Dockerfile --kinds api,relay,...
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

type serviceReport struct {
	Image       string            `json:"image"`
	Command     []string          `json:"command"`
	Healthcheck bool              `json:"healthcheck"`
	DependsOn   map[string]string `json:"dependsOn"`
	Restart     string            `json:"restart"`
	Ports       []string          `json:"ports"`
}

type dockerfileReport struct {
	Stages      int    `json:"stages"`
	Base        string `json:"base"`
	User        string `json:"user"`
	Entrypoint  string `json:"entrypoint"`
	Healthcheck bool   `json:"healthcheck"`
}

type report struct {
	Services   map[string]serviceReport `json:"services"`
	Dockerfile dockerfileReport         `json:"dockerfile"`
	Errors     []string                 `json:"errors"`
}

// An image is pinned when it names a version tag (or a digest), never latest.
var pinned = regexp.MustCompile(`^[^:@\s]+(:[0-9][^:@\s]*|:[^:@\s]*[0-9][^:@\s]*|@sha256:[0-9a-f]{64})$`)

func main() {
	composeFile := flag.String("compose", "docker-compose.yml", "compose file")
	dockerfile := flag.String("dockerfile", "Dockerfile", "Dockerfile")
	kinds := flag.String("kinds", "", "process kinds of the system (system/contracts/processes.ts), comma-separated")
	flag.Parse()
	r := report{Services: map[string]serviceReport{}, Errors: []string{}}
	fail := func(format string, a ...any) { r.Errors = append(r.Errors, fmt.Sprintf(format, a...)) }

	healthInImage := checkDockerfile(*dockerfile, &r, fail)
	checkCompose(*composeFile, strings.Split(*kinds, ","), healthInImage, &r, fail)

	out, _ := json.MarshalIndent(r, "", "  ")
	fmt.Println(string(out))
	if len(r.Errors) > 0 {
		os.Exit(1)
	}
}

func checkDockerfile(path string, r *report, fail func(string, ...any)) bool {
	f, err := os.Open(path)
	if err != nil {
		fail("dockerfile: %v", err)
		return false
	}
	defer f.Close()
	ast, err := parser.Parse(f)
	if err != nil {
		fail("dockerfile: %v", err)
		return false
	}
	stages, metaArgs, err := instructions.Parse(ast.AST, nil)
	if err != nil {
		fail("dockerfile: %v", err)
		return false
	}
	args := map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				args[kv.Key] = *kv.Value
			}
		}
	}
	expand := func(s string) string {
		return os.Expand(s, func(k string) string { return args[k] })
	}
	r.Dockerfile.Stages = len(stages)
	if len(stages) == 0 {
		fail("dockerfile: no stage")
		return false
	}
	for _, s := range stages {
		base := expand(s.BaseName)
		if !pinned.MatchString(base) {
			fail("dockerfile: stage %q FROM %q is not pinned to a version", s.Name, base)
		}
	}
	final := stages[len(stages)-1]
	r.Dockerfile.Base = expand(final.BaseName)
	for _, c := range final.Commands {
		switch cmd := c.(type) {
		case *instructions.UserCommand:
			r.Dockerfile.User = cmd.User
		case *instructions.EntrypointCommand:
			r.Dockerfile.Entrypoint = strings.Join(cmd.CmdLine, " ")
		case *instructions.HealthCheckCommand:
			r.Dockerfile.Healthcheck = cmd.Health != nil && len(cmd.Health.Test) > 0 && cmd.Health.Test[0] != "NONE"
		}
	}
	if r.Dockerfile.User == "" || r.Dockerfile.User == "root" || r.Dockerfile.User == "0" {
		fail("dockerfile: the final stage runs as root (USER %q)", r.Dockerfile.User)
	}
	if !strings.Contains(r.Dockerfile.Entrypoint, "system/main.ts") {
		fail("dockerfile: ENTRYPOINT %q is not the system's entry point (system/main.ts)", r.Dockerfile.Entrypoint)
	}
	if !r.Dockerfile.Healthcheck {
		fail("dockerfile: no HEALTHCHECK")
	}
	return r.Dockerfile.Healthcheck
}

func checkCompose(path string, kinds []string, healthInImage bool, r *report, fail func(string, ...any)) {
	abs, _ := filepath.Abs(path)
	opts, err := cli.NewProjectOptions([]string{abs}, cli.WithWorkingDirectory(filepath.Dir(abs)), cli.WithName("payproof"))
	if err != nil {
		fail("compose: %v", err)
		return
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fail("compose: %v", err)
		return
	}
	for name, s := range project.Services {
		deps := map[string]string{}
		for d, c := range s.DependsOn {
			deps[d] = c.Condition
		}
		var ports []string
		for _, p := range s.Ports {
			ports = append(ports, fmt.Sprintf("%s:%s", p.Published, fmt.Sprint(p.Target)))
		}
		sort.Strings(ports)
		restart := s.Restart
		r.Services[name] = serviceReport{
			Image:       s.Image,
			Command:     []string(s.Command),
			Healthcheck: s.HealthCheck != nil && !s.HealthCheck.Disable,
			DependsOn:   deps,
			Restart:     restart,
			Ports:       ports,
		}
		if !pinned.MatchString(s.Image) {
			fail("compose: service %s: image %q is not pinned to a version", name, s.Image)
		}
	}
	for _, infra := range []string{"postgres", "redis", "kafka", "toxiproxy"} {
		s, ok := project.Services[infra]
		if !ok {
			fail("compose: no %s service", infra)
			continue
		}
		if s.HealthCheck == nil {
			fail("compose: %s has no healthcheck", infra)
		}
	}
	if tp, ok := project.Services["toxiproxy"]; ok {
		mounted := false
		for _, v := range tp.Volumes {
			if strings.HasSuffix(v.Source, "toxiproxy.json") {
				mounted = true
				checkProxies(v.Source, fail)
			}
		}
		if !mounted || !strings.Contains(strings.Join(tp.Command, " "), "-config") {
			fail("compose: toxiproxy does not load its proxies from a mounted file (-config)")
		}
	}
	prov, ok := project.Services["provision"]
	if !ok || len(prov.Command) == 0 || prov.Command[0] != "provision" {
		fail("compose: no provision service running `provision`")
	}
	for _, k := range kinds {
		if k == "" {
			continue
		}
		s, ok := project.Services[k]
		if !ok {
			fail("compose: no service for process kind %s", k)
			continue
		}
		if len(s.Command) == 0 || s.Command[0] != k {
			fail("compose: service %s runs %v, not %s", k, s.Command, k)
		}
		if c := s.DependsOn["provision"].Condition; c != types.ServiceConditionCompletedSuccessfully {
			fail("compose: service %s does not wait for provision to complete (condition %q)", k, c)
		}
		if c := s.DependsOn["toxiproxy"].Condition; c != types.ServiceConditionHealthy {
			fail("compose: service %s does not wait for toxiproxy to be healthy (condition %q)", k, c)
		}
		for _, v := range []string{"DATABASE_URL", "KAFKA_BROKERS", "REDIS_URL"} {
			val := s.Environment[v]
			if val == nil || !strings.Contains(*val, "toxiproxy") {
				fail("compose: service %s: %s does not go through toxiproxy", k, v)
			}
		}
		if s.HealthCheck == nil && !healthInImage {
			fail("compose: service %s has no healthcheck (nor its image)", k)
		}
		if s.Restart == "" || s.Restart == "no" {
			fail("compose: service %s is not restarted when it crashes (restart %q)", k, s.Restart)
		}
	}
}

func checkProxies(path string, fail func(string, ...any)) {
	b, err := os.ReadFile(path)
	if err != nil {
		fail("toxiproxy config: %v", err)
		return
	}
	var proxies []struct {
		Name     string `json:"name"`
		Listen   string `json:"listen"`
		Upstream string `json:"upstream"`
	}
	if err := json.Unmarshal(b, &proxies); err != nil {
		fail("toxiproxy config %s: %v", path, err)
		return
	}
	have := map[string]bool{}
	for _, p := range proxies {
		have[p.Name] = true
	}
	for _, n := range []string{"postgres", "redis", "kafka"} {
		if !have[n] {
			fail("toxiproxy config %s: no proxy %s", path, n)
		}
	}
}
