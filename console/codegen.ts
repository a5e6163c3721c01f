// GraphQL Code Generator: typed operations from the committed schema (the served
// schema is kept equal to it by the server's test suite).
import type { CodegenConfig } from '@graphql-codegen/cli';

const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.tsx', 'src/**/*.ts', '!src/gql/**/*', '!src/**/*.test.*'],
  ignoreNoDocuments: false,
  generates: {
    './src/gql/': {
      preset: 'client',
      config: {
        documentMode: 'string',
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', JSON: 'unknown', NaiveDate: 'string' },
      },
      presetConfig: { fragmentMasking: false },
    },
  },
};

export default config;
