// The DAV protocol model: XML parsing/serialization and typed request/response structures.
export * from './errors.ts';
export * from './names.ts';
export * from './parse.ts';
export * from './href.ts';
export * from './filter-model.ts';
export * from './requests.ts';
export * from './responses.ts';
