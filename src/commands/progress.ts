/**
 * Module: progress for long work, on stderr and only when stderr is a terminal: piped or redirected
 * output (scripts, cron) gets nothing but the answer. Nothing is drawn for work that ends within
 * {@link DELAY_MS}, so a quick command does not flicker.
 */

const DELAY_MS = 300;
const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export interface Progress {
  /** Replaces the line's text, e.g. "2/5 hosts answered". */
  update(text: string): void;
  /** Clears the line; idempotent. */
  done(): void;
}

export interface ProgressStream {
  isTTY?: boolean;
  write(chunk: string): boolean;
}

export function startProgress(stream: ProgressStream, text: string): Progress {
  if (!stream.isTTY) return { update() {}, done() {} };
  const started = Date.now();
  let frame = 0;
  let drawn = false;
  const draw = () => {
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${text} (${seconds} s)`);
    drawn = true;
  };
  let timer: NodeJS.Timeout | undefined;
  const delay = setTimeout(() => {
    draw();
    timer = setInterval(draw, 100);
    timer.unref();
  }, DELAY_MS);
  delay.unref();
  let finished = false;
  return {
    update(next) {
      text = next;
    },
    done() {
      if (finished) return;
      finished = true;
      clearInterval(timer);
      clearTimeout(delay);
      if (drawn) stream.write('\r\x1b[2K');
    },
  };
}
