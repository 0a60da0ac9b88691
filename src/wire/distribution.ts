/** Registry endpoints' wire shapes (Engine API v1.50): pull and push progress, /auth, X-Registry-Auth. */

/** One line of a pull or push progress stream, as dockerd writes it (jsonmessage.JSONMessage). */
export interface DistributionProgress {
  status?: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  /** The bar dockerd renders for clients without a terminal: "[==>   ]  1.05MB/10.5MB". */
  progress?: string;
  /** Push's last message: what was pushed. */
  aux?: { Tag: string; Digest: string; Size: number };
  error?: string;
  errorDetail?: { message: string };
}

/** POST /auth body, and the JSON inside X-Registry-Auth (base64url). */
export interface AuthConfig {
  username?: string;
  password?: string;
  /** Deprecated by Docker, accepted and ignored. */
  email?: string;
  serveraddress?: string;
  identitytoken?: string;
  registrytoken?: string;
  /** Base64 of "user:password", as config.json stores it. */
  auth?: string;
}

/** POST /auth answer. */
export interface AuthResponse {
  Status: string;
  IdentityToken?: string;
}

/** OCIPlatform: a platform an image serves. */
export interface OciPlatform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

/** GET /distribution/{name}/json: the registry's descriptor of the name, and the platforms it serves. */
export interface DistributionInspect {
  Descriptor: { mediaType: string; digest: string; size: number };
  Platforms: OciPlatform[];
}
