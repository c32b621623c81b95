/** `{{git.commit}}`, `{{git.branch}}`, `{{git.tag}}` of the build file's repository; empty outside git. */
import { execa } from 'execa';

export interface GitInfo {
  commit: string;
  branch: string;
  tag: string;
}

async function git(dir: string, args: string[]): Promise<string> {
  const r = await execa('git', ['-C', dir, ...args], { reject: false, stdin: 'ignore', env: { GIT_OPTIONAL_LOCKS: '0' } });
  return r.exitCode === 0 ? String(r.stdout).trim() : '';
}

export async function readGitInfo(dir: string): Promise<GitInfo> {
  const commit = await git(dir, ['rev-parse', '--verify', '-q', 'HEAD']);
  if (commit === '') return { commit: '', branch: '', tag: '' };
  const [branch, tag] = await Promise.all([
    git(dir, ['symbolic-ref', '-q', '--short', 'HEAD']), // empty on a detached HEAD
    git(dir, ['describe', '--tags', '--exact-match', 'HEAD']), // empty unless a tag points at HEAD
  ]);
  return { commit, branch, tag };
}

/** Reads git only when some template of the build file asks for it (one `git` process less per build otherwise). */
export async function gitInfoIfUsed(bf: object & { dir: string }): Promise<GitInfo | undefined> {
  return /\{\{\s*git\./.test(JSON.stringify(bf)) ? readGitInfo(bf.dir) : undefined;
}
