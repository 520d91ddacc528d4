// Types of alicloud-credentials-native, a drop-in replacement for @alicloud/credentials.
// `export =` with a merged namespace: constructible as `new Credential()` under every module
// setting, with `Credential.default`, `Config` and the other named exports alongside.

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

  /** @deprecated Use getCredential() instead. */
  getAccessKeyId(): Promise<string>;

  /**
   * @deprecated Use getCredential() instead. Comes from the same snapshot as the last
   * getAccessKeyId() while that one is unexpired, so id and secret always belong together.
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

  /** The options of `new Config({...})`. Unknown keys are ignored. */
  export interface ConfigOptions {
    /** `access_key`, `sts`, `bearer`, `ram_role_arn`, `oidc_role_arn`, `ecs_ram_role`, `credentials_uri`. */
    type?: string;
    accessKeyId?: string;
    accessKeySecret?: string;
    securityToken?: string;
    bearerToken?: string;
    /** ARN of the RAM role to assume (`ram_role_arn`, `oidc_role_arn`). */
    roleArn?: string;
    /** Session name; default `credentials-nodejs-<ms since epoch>`. */
    roleSessionName?: string;
    /** Session lifetime in seconds; default 3600, at least 900. */
    roleSessionExpiration?: number;
    policy?: string;
    externalId?: string;
    /** STS endpoint host, or a URL whose scheme is used as given. */
    stsEndpoint?: string;
    stsRegionId?: string;
    enableVpc?: boolean | string;
    oidcProviderArn?: string;
    oidcTokenFilePath?: string;
    credentialsURI?: string;
    /** ECS RAM role name; discovered from the metadata service when absent. */
    roleName?: string;
    disableIMDSv1?: boolean;
    asyncCredentialUpdateEnabled?: boolean;
    /** Read timeout in milliseconds. */
    timeout?: number;
    /** Connect timeout in milliseconds. */
    connectTimeout?: number;
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
  export class Config implements ConfigOptions {
    /** Copies the known options of `config`; a value of the wrong type throws a TypeError naming it. */
    constructor(config?: ConfigOptions);
    type?: string;
    accessKeyId?: string;
    accessKeySecret?: string;
    securityToken?: string;
    bearerToken?: string;
    roleArn?: string;
    roleSessionName?: string;
    roleSessionExpiration?: number;
    policy?: string;
    externalId?: string;
    stsEndpoint?: string;
    stsRegionId?: string;
    enableVpc?: boolean | string;
    oidcProviderArn?: string;
    oidcTokenFilePath?: string;
    credentialsURI?: string;
    roleName?: string;
    disableIMDSv1?: boolean;
    asyncCredentialUpdateEnabled?: boolean;
    timeout?: number;
    connectTimeout?: number;
    publicKeyId?: string;
    privateKeyFile?: string;
    durationSeconds?: number;
    enableIMDSv2?: boolean;
    metadataTokenDuration?: number;
    [key: string]: any;
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
}

export = Credential;
