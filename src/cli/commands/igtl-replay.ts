/**
 * `navws igtl-replay <run>`: streams a recorded run over OpenIGTLink at its own pace, for review and
 * planning in 3D Slicer (docs/openigtlink.md).
 */
import { readRecordedRun, replayRun } from '../../engine/igtl/replay.js';
import { DEFAULT_IGTL_PORT } from '../../engine/igtl/publisher.js';
import { type CliCommand, UsageError, parseCliArgs } from '../command.js';
import { type IgtlCliOptions, igtlCliOptions, openIgtlFromCli } from '../igtl-options.js';

const usage = `usage: navws igtl-replay <run-folder> [options]

Streams a recorded run over OpenIGTLink: the camera pose of every frame (TRANSFORM NavWS-CameraToRAS),
tracking status (STATUS NavWS-Tracking), the surface (POLYDATA NavWS-Surface, from mesh.ply) and the
video (IMAGE NavWS-Video) when the run's dataset is still there. <run-folder> is a \`navws reconstruct\`
output folder (trajectory.txt, mesh.ply) or a case-store run folder (frames.jsonl, source.json).

options:
  --igtl [HOST:]PORT     address to listen on (default 127.0.0.1:${DEFAULT_IGTL_PORT})
  --igtl-wait N          wait for N clients before streaming (default 0)
  --igtl-frame ras|lps   coordinate frame sent (default ras)
  --igtl-depth           also send the run's depth maps (depth/), IMAGE NavWS-Depth
  --igtl-triangles N     decimate the surface to at most N triangles
  --video DATASET        dataset folder with the run's video (default: the one the run recorded)
  --speed S              replay speed, 1 = the run's own frame rate (default 1)
  --loop                 start again at the end, until interrupted (Ctrl-C)
  --quiet                no progress on stderr`;

export const command: CliCommand = {
  name: 'igtl-replay',
  summary: 'stream a recorded run (pose, surface, video) over OpenIGTLink to 3D Slicer',
  usage,
  async run(argv) {
    const { values, positionals } = parseCliArgs({
      args: argv,
      allowPositionals: true,
      options: {
        ...igtlCliOptions,
        video: { type: 'string' },
        speed: { type: 'string' },
        loop: { type: 'boolean', default: false },
        quiet: { type: 'boolean', default: false },
      },
    });
    const [folder, ...extra] = positionals;
    if (!folder || extra.length > 0) throw new UsageError('expects exactly one run folder');
    const speed = values.speed === undefined ? 1 : Number(values.speed);
    if (!(speed > 0 && speed <= 100))
      throw new UsageError(`--speed must be in (0, 100], got '${values.speed}'`);
    const run = await readRecordedRun(folder, values.video);
    const log = (level: string, message: string): void => {
      if (!values.quiet) process.stderr.write(`${level}: ${message}\n`);
    };
    for (const note of run.notes) log('info', note);
    const igtl = await openIgtlFromCli(
      { ...(values as IgtlCliOptions), igtl: values.igtl ?? String(DEFAULT_IGTL_PORT) },
      log,
    );
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      await igtl!.waitForClients();
      const summary = await replayRun(run, igtl!.session, {
        speed,
        loop: values.loop,
        sendDepth: !!values['igtl-depth'],
        signal: abort.signal,
      });
      await igtl!.close();
      const stats = igtl!.session.server.stats();
      if (!values.quiet)
        process.stderr.write(
          `igtl-replay: ${summary.frames} frames (${summary.withVideo} with video)${summary.loops > 1 ? ` in ${summary.loops} loops` : ''}, ${stats.messagesSent} messages to ${stats.connectionsTotal} client(s), ${stats.dropped} dropped\n`,
        );
      return 0;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      await igtl!.close();
    }
  },
};
