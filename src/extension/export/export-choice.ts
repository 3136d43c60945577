// Which form Export Model writes. A full fine-tuning checkpoint is a whole model and is copied
// without a question; a LoRA checkpoint is an adapter, which a user may want as it is (small,
// for PEFT) or folded into its base (a plain model every tool loads).
import type { CheckpointEntry } from '../runs-view/run-list';
import type { AdapterExportForm } from './export-checkpoint';

/** 'model': a full fine-tuning checkpoint's Hugging Face folder, copied. */
export type ExportForm = 'model' | AdapterExportForm;

/** A QuickPick item (vscode.QuickPickItem's fields) with the form it stands for. */
export interface ExportChoice {
  form: AdapterExportForm;
  label: string;
  description: string;
  detail: string;
}

export const ADAPTER_EXPORT_CHOICES: readonly ExportChoice[] = [
  {
    form: 'adapter',
    label: 'PEFT adapter',
    description: 'adapter_config.json + adapter_model.safetensors',
    detail: 'Small. Load it onto the base model with PeftModel.from_pretrained(base, folder); its base_model_name_or_path is the run\'s model folder.',
  },
  {
    form: 'merged',
    label: 'Merged model',
    description: 'a plain Hugging Face model folder',
    detail: 'The adapter folded into the base weights (as PEFT\'s merge_and_unload): loads with AutoModelForCausalLM and every grpo command, without PEFT.',
  },
];

/**
 * The form to export `checkpoint` in: 'model' for a full fine-tuning checkpoint, without asking;
 * for a LoRA checkpoint, the one `ask` returns, undefined when the user dismissed the question.
 */
export async function chooseExportForm(
  checkpoint: CheckpointEntry,
  ask: (choices: readonly ExportChoice[]) => PromiseLike<ExportChoice | undefined>,
): Promise<ExportForm | undefined> {
  if (!checkpoint.adapter) return 'model';
  return (await ask(ADAPTER_EXPORT_CHOICES))?.form;
}
