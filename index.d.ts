// Types of alicloud-credentials-native, a drop-in replacement for @alicloud/credentials.
// `export =` with a merged namespace: constructible as `new Credential()` under every module
// setting, with `Credential.default`, `Config` and the other named exports alongside.

import type { NativeOptions } from './binding';

declare class Credential {
  /**
   * A credential client. With no config it runs the default chain (environment, then the other
   * sources in the official order). A provider (any object with `getCredentials()` and
   * `getProviderName()`) wins over the config.
   * @throws Error with `code` when the config is incomplete (the official messages), TypeError
   * with `code: 'ERR_INVALID_ARG_TYPE'` when an option has the wrong type.
   */
  constructor(config?: Credential.Config | Credential.ConfigOptions | null, provider?: Credential.CredentialsProvider | { [key: string]: any } | null);

  /**
   * Resolves to the current credentials as a plain object (absent fields left out). Session
   * credentials are cached and refreshed before they expire; a cached one resolves without
   * leaving JavaScript.
   */
  getCredential(): Promise<Credential.CredentialModel>;

  /**
   * Resolves to a description without secrets (beyond the official package): the provider that
   * served the credentials, the masked AccessKey ID, expiration and next refresh, the endpoint or
   * file they came from, and for the default chain every step with why it was used, skipped or
   * failed. Never rejects: `error` is set when no credentials could be had.
   */
  describe(): Promise<Credential.Description>;

  /** @deprecated Use getCredential() instead. */
  getAccessKeyId(): Promise<string>;

  /**
   * @deprecated Use getCredential() instead. Comes from the same snapshot as the last
   * getAccessKeyId() until that one's safety margin before expiry (where getCredential() stops
   * handing it out), so id and secret always belong together and are never about to expire.
   */
  getAccessKeySecret(): Promise<string>;

  /** @deprecated Use getCredential() instead. Same snapshot rule as getAccessKeySecret(). */
  getSecurityToken(): Promise<string>;

  /** @deprecated Use getCredential() instead. Synchronous; `undefined` except for `bearer`. */
  getBearerToken(): string;

  /** @deprecated Use getCredential() instead. Synchronous: the credential type. */
  getType(): string;
}

declare namespace Credential {
  export { Credential as default };

  /**
   * The options of `new Config({...})`: those of the native option object a Config takes
   * (declared, with their documentation, in `binding.d.ts`, generated from the Rust binding), and
   * those accepted for compatibility. Unknown keys are ignored.
   */
  export interface ConfigOptions
    extends Omit<NativeOptions, 'enableVpc' | 'durationSeconds' | 'readTimeout' | 'profileName'> {
    enableVpc?: boolean | string;
    /** Accepted for compatibility; `rsa_key_pair` is not supported. */
    publicKeyId?: string;
    /** Accepted for compatibility; `rsa_key_pair` is not supported. */
    privateKeyFile?: string;
    /** Accepted and ignored, as by the official package. */
    durationSeconds?: number;
    /** Accepted and ignored, as by the official package. */
    enableIMDSv2?: boolean;
    /** Accepted and ignored, as by the official package. */
    metadataTokenDuration?: number;
    [key: string]: any;
  }

  /** The options of a credential. Fields may be assigned after construction. */
  export interface Config extends ConfigOptions {}
  export class Config {
    /** Copies the known options of `config`; a value of the wrong type throws a TypeError naming it. */
    constructor(config?: ConfigOptions);
    /** The set options as a plain object. */
    toMap(): { [key: string]: any };
  }

  /** What `getCredential()` resolves to. */
  export class CredentialModel {
    constructor(map?: { [key: string]: any });
    accessKeyId?: string;
    accessKeySecret?: string;
    securityToken?: string;
    bearerToken?: string;
    type?: string;
    providerName?: string;
    toMap(): { [key: string]: any };
  }

  /** The options `ossOptions()` resolves to, ready to spread into `new OSS({...})`. */
  export interface OssCredentialOptions {
    accessKeyId: string;
    accessKeySecret: string;
    /** Left out for static AccessKeys. */
    stsToken?: string;
    /** Left out for static AccessKeys; resolves to the credential's current keys. */
    refreshSTSToken?: () => Promise<CredentialModel>;
    /** Left out for static AccessKeys; a quarter of the remaining lifetime, 1 s to 5 min. */
    refreshSTSTokenInterval?: number;
  }

  /**
   * Options for `ali-oss` from a credential (beyond the official package):
   * `new OSS({ region, bucket, ...(await ossOptions(credential)) })`. For STS credentials the
   * client refreshes its keys through `refreshSTSToken` before they expire.
   */
  export function ossOptions(credential: Credential): Promise<OssCredentialOptions>;

  /** What a provider's `getCredentials()` resolves to. */
  export interface Credentials {
    accessKeyId?: string;
    accessKeySecret?: string;
    securityToken?: string;
    providerName?: string;
  }

  /** Anything with `getCredentials()` and `getProviderName()` can serve a Credential. */
  export interface CredentialsProvider {
    getCredentials: () => Promise<Credentials>;
    getProviderName: () => string;
  }

  /** One step of the default chain in its last pass. */
  export interface ChainStep {
    provider: string;
    outcome: 'used' | 'failed' | 'skipped' | 'not tried';
    /** Why it failed or was skipped. */
    reason?: string;
  }

  /** What `describe()` resolves to; never a secret. */
  export interface Description {
    /** The credential type (`Credential.describe()` only). */
    type?: string;
    /** The provider name of the credentials (`default/ecs_ram_role`, ...). */
    providerName?: string;
    /** The AccessKey ID, first and last four characters only. */
    accessKeyId?: string;
    /** RFC 3339 UTC expiration of session credentials. */
    expiration?: string;
    /** RFC 3339 UTC time from which they are refreshed. */
    nextRefresh?: string;
    /** The endpoint, file or environment the credentials came from. */
    endpoint?: string;
    /** For the default chain, every step in order; otherwise empty. */
    steps: ChainStep[];
    /** Set when no credentials could be had. */
    error?: { code: string; message: string };
  }

  /** Base of the exported providers: native, cached, composable. */
  abstract class NativeBackedProvider implements CredentialsProvider {
    /** Resolves to a description of the current credentials without secrets. */
    describe(): Promise<Description>;
    /** Resolves to `{ accessKeyId, accessKeySecret, securityToken, providerName }`. */
    getCredentials(): Promise<Credentials>;
    /** The official provider name. */
    getProviderName(): string;
  }

  /** Setters every session-provider builder has. */
  interface TimeoutSetters<B> {
    /** Read timeout in milliseconds. */
    withReadTimeout(readTimeout: number): B;
    /** Connect timeout in milliseconds. */
    withConnectTimeout(connectTimeout: number): B;
  }

  interface RoleSetters<B> extends TimeoutSetters<B> {
    withRoleArn(roleArn: string): B;
    withRoleSessionName(roleSessionName: string): B;
    /** Session lifetime in seconds; default 3600, at least 900. */
    withDurationSeconds(durationSeconds: number): B;
    withPolicy(policy: string): B;
    /** STS endpoint host, or a URL whose scheme is used as given. */
    withStsEndpoint(stsEndpoint: string): B;
    withStsRegionId(stsRegionId: string): B;
    withEnableVpc(enableVpc: boolean): B;
  }

  /** Builds a {@link StaticAKCredentialsProvider}. */
  export interface StaticAKCredentialsProviderBuilder {
    withAccessKeyId(accessKeyId: string): this;
    withAccessKeySecret(accessKeySecret: string): this;
    /** @throws `the access key id is empty` / `the access key secret is empty` (after the environment fallbacks). */
    build(): StaticAKCredentialsProvider;
  }
  /** A fixed AccessKey (`static_ak`). */
  export class StaticAKCredentialsProvider extends NativeBackedProvider {
    static builder(): StaticAKCredentialsProviderBuilder;
  }

  /** Builds a {@link StaticSTSCredentialsProvider}. */
  export interface StaticSTSCredentialsProviderBuilder {
    withAccessKeyId(accessKeyId: string): this;
    withAccessKeySecret(accessKeySecret: string): this;
    withSecurityToken(securityToken: string): this;
    /** @throws the official messages for a missing id, secret or token. */
    build(): StaticSTSCredentialsProvider;
  }
  /** A fixed STS token (`static_sts`). */
  export class StaticSTSCredentialsProvider extends NativeBackedProvider {
    static builder(): StaticSTSCredentialsProviderBuilder;
  }

  /** Builds a {@link RAMRoleARNCredentialsProvider}. */
  export interface RAMRoleARNCredentialsProviderBuilder extends RoleSetters<RAMRoleARNCredentialsProviderBuilder> {
    /** The provider whose credentials sign AssumeRole: one of ours or any JavaScript provider. */
    withCredentialsProvider(provider: CredentialsProvider): this;
    withExternalId(externalId: string): this;
    /** @throws `must specify a previous credentials provider to asssume role`, `the RoleArn is empty`, the duration message. */
    build(): RAMRoleARNCredentialsProvider;
  }
  /** AssumeRole over another provider (`ram_role_arn/<source>`). */
  export class RAMRoleARNCredentialsProvider extends NativeBackedProvider {
    static builder(): RAMRoleARNCredentialsProviderBuilder;
  }

  /** Builds an {@link OIDCRoleArnCredentialsProvider}. */
  export interface OIDCRoleArnCredentialsProviderBuilder extends RoleSetters<OIDCRoleArnCredentialsProviderBuilder> {
    withOIDCProviderArn(oidcProviderArn: string): this;
    withOIDCTokenFilePath(oidcTokenFilePath: string): this;
    /** @throws the official messages for a missing role ARN, provider ARN or token file. */
    build(): OIDCRoleArnCredentialsProvider;
  }
  /** AssumeRoleWithOIDC with a token file re-read at each refresh (`oidc_role_arn`). */
  export class OIDCRoleArnCredentialsProvider extends NativeBackedProvider {
    static builder(): OIDCRoleArnCredentialsProviderBuilder;
  }

  /** Builds an {@link ECSRAMRoleCredentialsProvider}. */
  export interface ECSRAMRoleCredentialsProviderBuilder extends TimeoutSetters<ECSRAMRoleCredentialsProviderBuilder> {
    withRoleName(roleName: string): this;
    withDisableIMDSv1(disableIMDSv1: boolean): this;
    withAsyncCredentialUpdateEnabled(enabled: boolean): this;
    /** @throws `IMDS credentials is disabled` when `ALIBABA_CLOUD_ECS_METADATA_DISABLED=true`. */
    build(): ECSRAMRoleCredentialsProvider;
  }
  /** The ECS instance RAM role (`ecs_ram_role`). */
  export class ECSRAMRoleCredentialsProvider extends NativeBackedProvider {
    static builder(): ECSRAMRoleCredentialsProviderBuilder;
    /** Stops the background refresh. */
    close(): void;
  }

  /** Builds a {@link URICredentialsProvider}. */
  export interface URICredentialsProviderBuilder extends TimeoutSetters<URICredentialsProviderBuilder> {
    withCredentialsURI(credentialsURI: string): this;
    build(): URICredentialsProvider;
  }
  /** Credentials served by a URI (`credential_uri`). */
  export class URICredentialsProvider extends NativeBackedProvider {
    static builder(): URICredentialsProviderBuilder;
  }

  /** Builds an {@link EnvironmentVariableCredentialsProvider}. */
  export interface EnvironmentVariableCredentialsProviderBuilder {
    build(): EnvironmentVariableCredentialsProvider;
  }
  /** `ALIBABA_CLOUD_ACCESS_KEY_ID` / `_SECRET` / `ALIBABA_CLOUD_SECURITY_TOKEN` (`env`). */
  export class EnvironmentVariableCredentialsProvider extends NativeBackedProvider {
    static builder(): EnvironmentVariableCredentialsProviderBuilder;
  }

  /** Builds a {@link ProfileCredentialsProvider}. */
  export interface ProfileCredentialsProviderBuilder {
    /** The INI section; default `ALIBABA_CLOUD_PROFILE`, then `default`. */
    withProfileName(profileName: string): this;
    build(): ProfileCredentialsProvider;
  }
  /** The INI file `~/.alibabacloud/credentials` or `ALIBABA_CLOUD_CREDENTIALS_FILE` (`profile`). */
  export class ProfileCredentialsProvider extends NativeBackedProvider {
    static builder(): ProfileCredentialsProviderBuilder;
  }

  /** Builds a {@link CLIProfileCredentialsProvider}. */
  export interface CLIProfileCredentialsProviderBuilder {
    /** The CLI profile; default `ALIBABA_CLOUD_PROFILE`, then the file's `current`. */
    withProfileName(profileName: string): this;
    /** @throws `the CLI profile is disabled` when `ALIBABA_CLOUD_CLI_PROFILE_DISABLED=true`. */
    build(): CLIProfileCredentialsProvider;
  }
  /** The Alibaba Cloud CLI's `~/.aliyun/config.json` or `ALIBABA_CLOUD_CONFIG_FILE` (`cli_profile`). */
  export class CLIProfileCredentialsProvider extends NativeBackedProvider {
    static builder(): CLIProfileCredentialsProviderBuilder;
  }

  /** Builds a {@link DefaultCredentialsProvider}. */
  export interface DefaultCredentialsProviderBuilder {
    build(): DefaultCredentialsProvider;
  }
  /** The default chain (`default`). */
  export class DefaultCredentialsProvider extends NativeBackedProvider {
    static builder(): DefaultCredentialsProviderBuilder;
  }
}

export = Credential;
