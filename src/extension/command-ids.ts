// Every command the extension contributes, declared once; package.json's `contributes.commands`
// lists the same ids.
export enum CommandId {
  StartTraining = 'grpo.startTraining',
  StopTraining = 'grpo.stopTraining',
  PauseTraining = 'grpo.pauseTraining',
  ResumeTraining = 'grpo.resumeTraining',
  RunOneIteration = 'grpo.runOneIteration',
  SaveCheckpointNow = 'grpo.saveCheckpointNow',
  NewTrainingConfig = 'grpo.newTrainingConfig',
  ShowLog = 'grpo.showLog',
  OpenDashboard = 'grpo.openDashboard',
  OpenRun = 'grpo.openRun',
  SwitchCompletionColouring = 'grpo.switchCompletionColouring',
  OpenRunDashboard = 'grpo.openRunDashboard',
  OpenRewardSample = 'grpo.openRewardSample',
  ResumeRun = 'grpo.resumeRun',
  RefreshRuns = 'grpo.refreshRuns',
  NewRewardFunction = 'grpo.newRewardFunction',
  ExportModel = 'grpo.exportModel',
  PreviewReward = 'grpo.previewReward',
  OpenRewardApi = 'grpo.openRewardApi',
}
