export declare const WORKERD_CONDITIONS: readonly string[];
export declare function bundleForWorkerd(options: {
  entry: string;
  outfile: string;
  workingDir?: string;
}): Promise<void>;
