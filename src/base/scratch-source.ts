import type { BaseImage, BaseSource } from './source.js';

export class ScratchSource implements BaseSource {
  readonly spec = 'scratch';
  async resolve(): Promise<BaseImage | undefined> {
    return undefined;
  }
}
