export { EngineService, type EngineServiceOptions } from './engine-service.js';
export { type CaseRepository, FolderCaseRepository } from './case-repository.js';
export { type StageFactory, type RunStages, defaultStageFactory } from './stage-factory.js';
