// Token texts of runs, for the dashboards and the completion documents: each model folder's
// tokenizer is loaded once. A run whose config or model folder is gone still opens, its tokens shown as ids.
import { RunFolder, type DecodeToken } from './run-folder';
import { loadTokenTexts } from './token-text';

export const tokenIds: DecodeToken = (id) => `⟨${id}⟩`;

export class RunDecoders {
  private readonly byModel = new Map<string, Promise<DecodeToken>>();

  constructor(private readonly log: (line: string) => void) {}

  async forRun(runDir: string): Promise<DecodeToken> {
    let modelPath: string;
    try {
      modelPath = (await new RunFolder(runDir).config()).model_path;
    } catch (e) {
      this.log(`tokens of ${runDir} show as ids: ${(e as Error).message}`);
      return tokenIds;
    }
    let decoder = this.byModel.get(modelPath);
    if (!decoder) {
      decoder = loadTokenTexts(modelPath).catch((e: Error) => {
        this.log(`tokens of ${runDir} show as ids: ${e.message}`);
        this.byModel.delete(modelPath); // the folder may be back next time
        return tokenIds;
      });
      this.byModel.set(modelPath, decoder);
    }
    return decoder;
  }
}
