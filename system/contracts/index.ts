export * from './api.ts';
export * from './events.ts';
export * from './ids.ts';
export * from './processes.ts';
export * from './schedule.ts';
export * from './topics.ts';
export * from './validate.ts';
export * from './webhook.ts';
