/**
 * The `tappass` executable (package.json "bin"), run as a user runs it: a child process of
 * bin/tappass.js, from another working directory.
 */
import { spawn } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { COMMANDS } from '../../cli/commands.js';
import { useTestStack } from '../helpers/testStack.js';

const BIN = fileURLToPath(new URL('../../bin/tappass.js', import.meta.url));
const SECRET = 'R0ut1ngKeyR0ut1ngKeyR0ut1ngKey32';

const stack = useTestStack();

/** Runs `tappass <args>` in `cwd`; resolves with its exit code and output. */
const tappass = (
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });

describe('Executable: tappass', () => {
  it('is the package\'s "tappass" bin', async () => {
    // Act
    const pkg = JSON.parse(await readFile('package.json', 'utf8')) as {
      bin: Record<string, string>;
    };

    // Assess
    expect(pkg.bin).toEqual({ tappass: 'bin/tappass.js' });
  });

  it('lists every command in --help and exits 0', async () => {
    // Act
    const { code, stdout, stderr } = await tappass(['--help'], await stack.tempDir('bin-'));

    // Assess
    expect(code).toBe(0);
    expect(stderr).toBe('');
    for (const entry of COMMANDS) expect(stdout).toContain(`  ${entry.name} `);
  });

  it('shows the help of observability test', async () => {
    // Act
    const { code, stdout } = await tappass(
      ['observability', 'test', '--help'],
      await stack.tempDir('bin-'),
    );

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: tappass observability test [options]');
    expect(stdout).toContain('-e, --export <name>');
  });

  it('observability test --export sends one event, prints the non-2xx body, masks the secret, exits as test-export does', async () => {
    // Prepare: a config in the user's own directory, given by a relative path.
    const dir = await stack.tempDir('bin-');
    const receiver = await stack.receiver({ status: 400, body: `refused key ${SECRET}` });
    await writeFile(
      join(dir, 'observability.yaml'),
      [
        'exports:',
        '  - name: pagerduty-alerts',
        '    destination: webhook',
        '    webhook:',
        `      url: ${receiver.url}/v2/enqueue`,
        '      headers:',
        '        Authorization: "Token token=${PD_ROUTING_KEY}"',
        '      body_template: \'{"routing_key": "${PD_ROUTING_KEY}", "kind": "{{event_kind}}"}\'',
        '',
      ].join('\n'),
    );
    const args = ['--export', 'pagerduty-alerts', '--config', 'observability.yaml'];
    const env = { PD_ROUTING_KEY: SECRET };

    // Act
    const page = await tappass(['observability', 'test', ...args], dir, env);
    const npmName = await tappass(['test-export', ...args], dir, env);

    // Assess
    expect(receiver.requests).toHaveLength(2);
    expect(page.code).toBe(npmName.code);
    expect(page.code).not.toBe(0);
    expect(`${page.stdout}${page.stderr}`).toContain('refused key ***');
    expect(`${page.stdout}${page.stderr}`).not.toContain(SECRET);
    expect(page.stderr).not.toContain('ExperimentalWarning');
  });

  it('resolves a relative --config from its working directory, not the repository', async () => {
    // Act
    const { code, stdout } = await tappass(
      ['validate', '--config', 'examples/routing.yaml'],
      fileURLToPath(new URL('../../config', import.meta.url)),
    );

    // Assess
    expect(code).toBe(0);
    expect(stdout).toContain('examples/routing.yaml: valid, 3 exports');
    expect(stdout).toContain('preset pagerduty (detected from the host events.pagerduty.com)');
  });

  it.each(COMMANDS.map((entry) => [entry.name, entry] as const))(
    "%s: the top-level help line is the command's own description",
    async (_name, entry) => {
      // Act
      const command = await entry.load();

      // Assess
      expect(entry.summary).toBe(command.description());
    },
  );
});
