import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { AdminModule } from './admin.module.js';

/** Where the admin API's OpenAPI description (UI, and JSON at `/admin/docs/openapi.json`) is served. */
export const ADMIN_DOCS_PATH = 'admin/docs';

/**
 * Serves the OpenAPI description of the admin API. Unauthenticated: it describes the API and holds
 * no data; every operation it lists still needs an admin token. Call before the app listens.
 */
export function setupAdminDocs(app: INestApplication): void {
  const description = new DocumentBuilder()
    .setTitle('Sessiongate admin API')
    .setDescription(
      'List and revoke gateway sessions. Bearer tokens from the OIDC provider, with ADMIN_JWT_AUDIENCE as `aud` and ADMIN_REQUIRED_SCOPE.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' })
    .build();
  const document = SwaggerModule.createDocument(app, description, { include: [AdminModule] });
  SwaggerModule.setup(ADMIN_DOCS_PATH, app, document, {
    jsonDocumentUrl: `${ADMIN_DOCS_PATH}/openapi.json`,
    yamlDocumentUrl: `${ADMIN_DOCS_PATH}/openapi.yaml`,
  });
}
