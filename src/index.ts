// Library entry (DESIGN §2.2): embed the mesh and the proxy in another Node program.
//   import { ModelMesh, ProxyServer } from 'modelmesh';
//   const server = new ProxyServer(ModelMesh.fromFile('mesh.yaml'));
//   await server.start();
export { ModelMesh } from './mesh/mesh.ts';
export type { MeshOptions } from './mesh/mesh.ts';
export type { MemberCard, ModelCard } from './mesh/listing.ts';
export { ProxyServer } from './proxy/proxy-server.ts';
export type { ServerStatus } from './proxy/proxy-server.ts';
export { MeshError, CATALOGUE } from './errors.ts';
export type { ErrorCode, MeshErrorOptions, UpstreamFailure } from './errors.ts';
export { loadConfigFile, formatSummary } from './config/load.ts';
export { buildConfig } from './config/schema/index.ts';
export type { BuildOptions } from './config/schema/index.ts';
export { parseYaml } from './config/yaml/parser.ts';
export { JsonLogger, silentLogger } from './log.ts';
export type { JsonLoggerOptions, Logger, LogLevelName } from './log.ts';
export { OPENAI_ROUTES } from './config/types.ts';
export type * from './config/types.ts';
