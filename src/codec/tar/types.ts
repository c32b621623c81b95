/** Public types of the tar codec (ustar + PAX, raw-byte xattr values). */

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo';

export interface TarHeader {
  /** Relative, no leading '/' or './', no trailing '/'; for directories the encoder appends '/'. */
  path: string;
  type: TarEntryType;
  /** Permission bits incl. setuid/setgid/sticky (mask 0o7777). */
  mode: number;
  uid: number;
  gid: number;
  /** Bytes of body; 0 for everything but 'file'. */
  size: number;
  /** Integer seconds since epoch. */
  mtime: number;
  /** Symlink target (verbatim) or hardlink target path (normalized like path). */
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** Default ''. */
  uname?: string;
  /** Default ''. */
  gname?: string;
  /** SCHILY.xattr.<name> records, raw binary values. */
  xattrs?: Map<string, Buffer>;
}

export interface TarEntry {
  header: TarHeader;
  body: AsyncIterable<Buffer>;
  /** Archive offset of the body's first byte (set by the decoder), so an indexed archive can be read by range. */
  offset?: number;
}
