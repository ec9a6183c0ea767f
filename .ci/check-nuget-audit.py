#!/usr/bin/env python3
"""Checks the NuGet audit policy of Directory.Build.props against a real restore.

The package feed of our machines serves no vulnerability data, so the policy cannot be seen at
work in the real build here. This check restores small throwaway projects that import the
repository's Directory.Build.props, with an audit source of its own on loopback that reports
made-up advisories against packages the repository already uses, and asserts what docs/development.md
("Dependencies") promises:

  - a high (or critical) advisory fails the restore, naming the advisory, also for a package that
    is only a dependency of a dependency (NuGetAuditMode all);
  - a moderate (or low) one is a warning, also with TreatWarningsAsErrors on;
  - a NuGetAuditSuppress item for the advisory lets the restore pass;
  - an audit source that cannot be reached is a warning, never a failure.

Exits non-zero with the restore output of the first case that did not behave.
"""
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HIGH = "https://example.invalid/advisories/HIGH-1"
MODERATE = "https://example.invalid/advisories/MODERATE-1"

# Packages the test projects already restore, so the check needs nothing new from the feed:
# Newtonsoft.Json has no dependencies; xunit.extensibility.core depends on xunit.abstractions.
ADVISORIES = {
    "newtonsoft.json": [{"url": HIGH, "severity": 2, "versions": "[13.0.3, 13.0.3]"}],
    "xunit.abstractions": [{"url": MODERATE, "severity": 1, "versions": "[2.0.3, 2.0.3]"}],
}


class AuditSource(http.server.BaseHTTPRequestHandler):
    """A NuGet V3 service index whose only resource is VulnerabilityInfo."""

    def do_GET(self):
        base = f"http://127.0.0.1:{self.server.server_port}"
        documents = {
            "/index.json": {"version": "3.0.0", "resources": [
                {"@id": f"{base}/vulnerabilities/index.json", "@type": "VulnerabilityInfo/6.7.0"}]},
            "/vulnerabilities/index.json": [
                {"@name": "base", "@id": f"{base}/vulnerabilities/base.json", "@updated": "2026-01-01T00:00:00Z"}],
            "/vulnerabilities/base.json": ADVISORIES,
        }
        if self.path not in documents:
            self.send_error(404)
            return
        body = json.dumps(documents[self.path]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def restore(work, name, audit_url, packages, extra_items="", properties=()):
    project_dir = os.path.join(work, name)
    os.makedirs(project_dir)
    with open(os.path.join(project_dir, "Directory.Build.props"), "w") as f:
        f.write(f"""<Project>
  <Import Project="{os.path.join(REPO, 'Directory.Build.props')}" />
  <PropertyGroup><ManagePackageVersionsCentrally>false</ManagePackageVersionsCentrally></PropertyGroup>
</Project>
""")
    with open(os.path.join(project_dir, "NuGet.config"), "w") as f:
        f.write(f"""<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <auditSources>
    <clear />
    <add key="check" value="{audit_url}" allowInsecureConnections="true" />
  </auditSources>
</configuration>
""")
    references = "\n".join(f'    <PackageReference Include="{p}" Version="{v}" />' for p, v in packages)
    with open(os.path.join(project_dir, f"{name}.csproj"), "w") as f:
        f.write(f"""<Project Sdk="Microsoft.NET.Sdk">
  <ItemGroup>
{references}
{extra_items}
  </ItemGroup>
</Project>
""")
    command = ["dotnet", "restore", "--no-http-cache", *[f"-p:{p}" for p in properties]]
    result = subprocess.run(command, cwd=project_dir, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=600)
    return result.returncode, result.stdout


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), AuditSource)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    audit_url = f"http://127.0.0.1:{server.server_port}/index.json"
    with socket_closed_port() as closed_port:
        unreachable_url = f"http://127.0.0.1:{closed_port}/index.json"

    work = tempfile.mkdtemp(prefix="nuget-audit-check-")
    failures = []

    def expect(case, ok, output):
        print(f"{'ok  ' if ok else 'FAIL'} {case}")
        if not ok:
            failures.append(f"--- {case}\n{output}")

    try:
        newtonsoft = [("Newtonsoft.Json", "13.0.3")]
        transitive_moderate = [("xunit.extensibility.core", "2.9.3")]

        code, out = restore(work, "high", audit_url, newtonsoft)
        expect("a high advisory fails the restore, naming it",
               code != 0 and "error NU1903" in out and HIGH in out, out)

        code, out = restore(work, "moderate", audit_url, transitive_moderate)
        expect("a moderate advisory of a transitive package is a warning",
               code == 0 and "warning NU1902" in out and MODERATE in out, out)

        code, out = restore(work, "moderatestrict", audit_url, transitive_moderate,
                            properties=["TreatWarningsAsErrors=true"])
        expect("a moderate advisory stays a warning with TreatWarningsAsErrors",
               code == 0 and "warning NU1902" in out, out)

        code, out = restore(work, "suppressed", audit_url, newtonsoft,
                            extra_items=f'    <NuGetAuditSuppress Include="{HIGH}" />')
        expect("a suppressed high advisory lets the restore pass",
               code == 0 and "NU1903" not in out, out)

        code, out = restore(work, "nodata", unreachable_url, newtonsoft,
                            properties=["TreatWarningsAsErrors=true"])
        expect("an unreachable audit source is a warning (NU1900), not a failure",
               code == 0 and "NU1900" in out, out)
    finally:
        server.shutdown()
        shutil.rmtree(work, ignore_errors=True)

    if failures:
        print("\n".join(failures))
        return 1
    return 0


class socket_closed_port:
    """A loopback port that nothing listens on (bound, then released)."""

    def __enter__(self):
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        return self.port

    def __exit__(self, *args):
        return False


if __name__ == "__main__":
    sys.exit(main())
