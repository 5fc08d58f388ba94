/** Where a Terraform state lives: a local file, or an object in S3. A stack's backend, or a state another stack reads. */
export type StateLocation =
  | { readonly type: "local"; readonly path: string }
  | { readonly type: "s3"; readonly bucket: string; readonly key: string; readonly region: string };
